"""A real Hub whose servers start slowly, with a service and a Hub user left by another
authenticator: what revocation and the workspaces endpoint do at those edges."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from jupyterhub import orm

from jupyter_clerk.hub.names import server_name
from tests.hub.conftest import ADA, PARTNERS, Browser, Hub
from tests.hub.stack import run_hub
from tests.hub.test_hub_end_to_end import WORKSPACES, sign_in

SERVICE_TOKEN = secrets.token_hex(16)
LEGACY_TOKEN = secrets.token_hex(16)
LEGACY_USER = "ada-from-an-earlier-authenticator"
START_DELAY = 4  # seconds each server waits before it starts: a spawn stays pending that long

SLOW_START = f"""
c.Spawner.cmd = ["sh", "-c", 'sleep {START_DELAY}; exec "$0" "$@"', *c.Spawner.cmd]
c.JupyterHub.tornado_settings = {{"slow_spawn_timeout": 0}}
c.JupyterHub.services.append({{"name": "probe", "api_token": {SERVICE_TOKEN!r}}})
"""


def leave_a_legacy_user(directory: Path) -> None:
    """The Hub's database as an earlier authenticator left it: a user whose name is not a
    Clerk user id, with a token."""
    db = orm.new_session_factory(f"sqlite:///{directory / 'jupyterhub.sqlite'}")()
    user = orm.User(name=LEGACY_USER)
    db.add_all([orm.OAuthClient(identifier="jupyterhub"), user])
    db.commit()
    user.new_api_token(LEGACY_TOKEN, note="from before Clerk")
    db.close()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    directory = tmp_path_factory.mktemp("slowhub")
    leave_a_legacy_user(directory)
    with run_hub(directory, SLOW_START) as running:
        yield running


def servers(browser: Browser, user_id: str) -> dict[str, dict]:
    status, _, body = browser.get(f"/hub/api/users/{quote(user_id)}")
    assert status == 200, status
    return json.loads(body)["servers"]


def test_a_membership_deleted_while_its_server_starts_stops_it_once_started(hub: Hub) -> None:
    """Before, the Hub answered 503 (it cannot stop a starting server) and the server ran
    until Clerk redelivered, about 5 s and then 5 min later (checked: this test failed on the
    503 against that code)."""
    ada = sign_in(hub, ADA)
    name = server_name(PARTNERS)
    ada.get(f"/hub/spawn/{quote(ADA)}/{name}")  # returns at once: slow_spawn_timeout is 0
    assert servers(ada, ADA)[name]["pending"] == "spawn"
    hub.in_instance(hub.instance.remove_membership, ADA, PARTNERS)
    hub.run(hub.instance.webhooks.drain())
    event, status = hub.instance.webhooks.delivered[-1]
    assert event == "organizationMembership.deleted"
    assert status in (200, 204), status
    assert servers(ada, ADA)[name]["pending"] == "spawn", "answered before the start ended"
    deadline = time.monotonic() + 60
    while name in servers(ada, ADA) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert name not in servers(ada, ADA), "the server must stop once it has started"
    log = hub.log.read_text()
    assert f"Stopping {ADA}/{name}, started after a revocation" in log


def test_a_service_gets_403_from_the_workspaces_endpoint(hub: Hub) -> None:
    status, _, body = Browser(hub.url).get(
        WORKSPACES, headers={"Authorization": f"token {SERVICE_TOKEN}"}
    )
    assert status == 403, body
    assert b"Only a signed-in person" in body


def test_a_hub_user_whose_name_is_not_a_clerk_id_gets_403_not_500(hub: Hub) -> None:
    """Before, the membership lookup raised ValueError on the name: a 500 (checked)."""
    status, _, body = Browser(hub.url).get(
        WORKSPACES, headers={"Authorization": f"token {LEGACY_TOKEN}"}
    )
    assert status == 403, body
    assert b"signed in with Clerk" in body
    assert b"Traceback" not in body
