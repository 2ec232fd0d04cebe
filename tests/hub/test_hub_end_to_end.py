"""A real Hub, proxy, local single-user servers and the local Clerk instance, over HTTP.

One Hub serves the module and the tests build on each other in order, as people would:
sign in, open organizations, be refused, be managed by an organization's admin, lose a
membership, lose a session.
"""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest

from jupyter_clerk.hub.names import server_name
from tests.hub.conftest import ADA, ENGINES, LINUS, PARTNERS, Browser, Hub


def sign_in(hub: Hub, user_id: str) -> Browser:
    browser = hub.browser(user_id)
    status, url, _ = browser.get("/hub/clerk/sign-in?next=%2Fhub%2Fhome")
    assert (status, url) == (200, f"{hub.url}/hub/home"), (status, url)
    return browser


def server_url(user_id: str, org: str | None) -> str:
    return f"/user/{quote(user_id)}/" + (f"{server_name(org)}/" if org else "")


def open_server(browser: Browser, user_id: str, org: str | None, timeout: float = 120) -> None:
    """What a tab does: ask the Hub to spawn, wait until the server answers us."""
    name = server_name(org) if org else ""
    browser.get(f"/hub/spawn/{quote(user_id)}/{name}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # A page (not an API call) goes through the Hub's OAuth and gets the server's cookie.
        status, url, _ = browser.get(server_url(user_id, org))
        if status == 200 and url.startswith(browser.url + server_url(user_id, org)):
            return
        time.sleep(0.5)
    raise AssertionError(f"{name or 'the personal server'} did not start")


def server_state(hub: Hub, browser: Browser, user_id: str) -> dict:
    status, _, body = browser.get(f"/hub/api/users/{quote(user_id)}")
    assert status == 200, status
    return json.loads(body)["servers"]


def listing(browser: Browser, user_id: str, org: str | None) -> set[str]:
    status, _, body = browser.get(server_url(user_id, org) + "api/contents/")
    assert status == 200, (status, body[:200])
    return {item["name"] for item in json.loads(body)["content"]}


@pytest.fixture(scope="module")
def ada(hub: Hub) -> Browser:
    return sign_in(hub, ADA)


def test_ada_signs_in_with_her_clerk_user_id_as_hub_name(hub: Hub, ada: Browser) -> None:
    status, _, body = ada.get("/hub/api/user")
    assert status == 200
    model = json.loads(body)
    assert model["name"] == ADA  # case kept
    assert set(model["groups"]) == {ENGINES, PARTNERS}


def test_two_organizations_are_two_servers_with_separate_cookies_and_directories(
    hub: Hub, ada: Browser
) -> None:
    open_server(ada, ADA, ENGINES)
    open_server(ada, ADA, PARTNERS)
    (hub.workspace(f"orgs/{ENGINES}") / "engines.txt").write_text("engines")
    (hub.workspace(f"orgs/{PARTNERS}") / "partners.txt").write_text("partners")
    assert listing(ada, ADA, ENGINES) == {"engines.txt"}
    assert listing(ada, ADA, PARTNERS) == {"partners.txt"}
    # One cookie per server, each scoped to its own server's path.
    paths = {c.path.rstrip("/") for c in ada.cookie("jupyterhub-user-")}
    assert {server_url(ADA, ENGINES).rstrip("/"), server_url(ADA, PARTNERS).rstrip("/")} <= paths


def test_linus_asking_for_adas_organization_gets_403(hub: Hub) -> None:
    linus = sign_in(hub, LINUS)
    status, _, _ = linus.get(server_url(ADA, ENGINES) + "api/contents/")
    assert status == 403
    status, _, _ = linus.get(f"/hub/spawn/{quote(LINUS)}/{server_name(ENGINES)}")
    assert status == 403
