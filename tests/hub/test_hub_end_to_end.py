"""A real Hub, proxy, local single-user servers and the local Clerk instance, over HTTP.

One Hub serves the module and the tests build on each other in order, as people would:
sign in, open organizations, be refused, be managed by an organization's admin, lose a
membership, lose a session.
"""

from __future__ import annotations

import html
import json
import os
import re
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import pytest

from jupyter_clerk.devinstance.resources import membership_json
from jupyter_clerk.devinstance.webhooks import new_webhook_secret, signed_delivery
from jupyter_clerk.hub.demo import webhook_url
from jupyter_clerk.hub.names import server_name
from jupyter_clerk.hub.org_roles import admin_role_name
from tests.hub.conftest import ADA, ENGINES, GRACE, LINUS, PARTNERS, VERA, Browser, Hub


def sign_in(hub: Hub, user_id: str) -> Browser:
    browser = hub.browser(user_id)
    status, url, _ = browser.get("/hub/clerk/sign-in?next=%2Fhub%2Fhome")
    assert (status, url) == (200, f"{hub.url}/hub/home"), (status, url)
    return browser


def server_url(user_id: str, org: str | None) -> str:
    return f"/user/{quote(user_id)}/" + (f"{server_name(org)}/" if org else "")


def open_server(browser: Browser, user_id: str, org: str | None, timeout: float = 120) -> None:
    """What a tab does: ask the Hub to spawn, wait until the server answers us."""
    name = f"/{server_name(org)}" if org else ""
    browser.get(f"/hub/spawn/{quote(user_id)}{name}")
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
    # The Hub lists each server under its organization's name.
    servers = server_state(hub, ada, ADA)
    assert servers[server_name(ENGINES)]["display_name"] == "Analytical Engines"
    assert servers[server_name(PARTNERS)]["display_name"] == "Difference Partners"
    # One cookie per server, each scoped to its own server's path.
    paths = {c.path.rstrip("/") for c in ada.cookie("jupyterhub-user-")}
    assert {server_url(ADA, ENGINES).rstrip("/"), server_url(ADA, PARTNERS).rstrip("/")} <= paths


def test_linus_asking_for_adas_organization_gets_403(hub: Hub) -> None:
    linus = sign_in(hub, LINUS)
    status, _, _ = linus.get(server_url(ADA, ENGINES) + "api/contents/")
    assert status == 403
    status, _, _ = linus.get(f"/hub/spawn/{quote(LINUS)}/{server_name(ENGINES)}")
    assert status == 403


WORKSPACES = "/hub/api/clerk/workspaces"
# What Chromium sends with a script's fetch() from a page on another port of the same host:
# cookies are not scoped by port, so the Hub cookie goes along (same-site, cross-origin).
ATTACKER_FETCH = {
    "Origin": "http://127.0.0.1:1",
    "Sec-Fetch-Mode": "cors",
    "Sec-Fetch-Site": "same-site",
    "Sec-Fetch-Dest": "empty",
}


def workspaces(browser: Browser, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    status, _, body = browser.get(WORKSPACES, headers=headers)
    return status, json.loads(body) if status == 200 else {}


def page_token(browser: Browser, user_id: str, org: str) -> str:
    """The token JupyterHub puts in the page config of a JupyterLab page (the top bar's)."""
    status, _, body = browser.get(server_url(user_id, org) + "lab")
    assert status == 200, status
    token = re.search(rb'"token": "([^"]+)"', body)
    assert token, "no token in the page config"
    return token.group(1).decode()


def test_the_top_bar_learns_a_persons_own_workspaces_and_their_servers(
    hub: Hub, ada: Browser
) -> None:
    token = page_token(ada, ADA, ENGINES)
    status, answer = workspaces(ada, {"Authorization": f"token {token}", **ATTACKER_FETCH})
    assert status == 200
    assert answer["user"] == ADA
    assert [w["label"] for w in answer["workspaces"]] == [
        "Analytical Engines",
        "Difference Partners",
        "Personal",
    ]
    engines, _, personal = answer["workspaces"]
    assert engines == {
        "workspace": ENGINES,
        "label": "Analytical Engines",
        "server": server_name(ENGINES),
        "spawn_url": f"/hub/spawn/{quote(ADA)}/{server_name(ENGINES)}",
    }
    assert (personal["server"], personal["spawn_url"]) == ("", f"/hub/spawn/{ADA}")
    # A person with one organization (or none) sees only theirs.
    vera, linus = sign_in(hub, VERA), sign_in(hub, LINUS)
    assert [w["workspace"] for w in workspaces(vera)[1]["workspaces"]] == [ENGINES, "personal"]
    assert [w["workspace"] for w in workspaces(linus)[1]["workspaces"]] == ["personal"]
    assert ADA not in json.dumps(workspaces(linus)[1])


def test_a_script_on_another_page_cannot_read_a_persons_workspaces_with_her_cookie(
    hub: Hub, ada: Browser
) -> None:
    """The attack: Ada's browser runs a script of another origin (or of a page on the Hub's
    origin without the Hub's XSRF token) that fetches the list with her Hub cookie. The Hub's
    XSRF rule for cookie-authenticated API requests refuses it (checked: with
    `HubWorkspacesHandler.check_xsrf_cookie` made a no-op, the first refused request got 200 and
    her organizations)."""
    assert workspaces(ada)[0] == 200  # a page load (navigation) of her own: allowed
    assert workspaces(ada, ATTACKER_FETCH)[0] == 403
    same_origin = {**ATTACKER_FETCH, "Sec-Fetch-Site": "same-origin"}
    del same_origin["Origin"]
    assert workspaces(ada, same_origin)[0] == 403
    # No cookie, no token: nothing.
    assert workspaces(Browser(hub.url))[0] == 403


def test_tokens_other_than_a_pages_cannot_read_a_persons_workspaces(hub: Hub, ada: Browser) -> None:
    """A token she makes on the Hub's token page may read her name and groups at the Hub,
    but not her workspaces: only her cookie or a JupyterLab page's token do."""
    ada.get("/hub/home")  # the Hub's page sets the _xsrf cookie its script sends
    status, _, body = ada.get(
        f"/hub/api/users/{quote(ADA)}/tokens",
        method="POST",
        body=json.dumps({"scopes": ["read:users:name!user", "read:users:groups!user"]}).encode(),
        headers={"Content-Type": "application/json", **ada.xsrf_headers("/hub/")},
    )
    assert status == 201, (status, body)
    assert_a_valid_token_of_adas_cannot_list_them(hub, json.loads(body)["token"])


def assert_a_valid_token_of_adas_cannot_list_them(hub, token: str) -> None:
    """The token works at the Hub (it is Ada's), yet the workspaces list refuses it."""
    headers = {"Authorization": f"token {token}"}
    anonymous = Browser(hub.url)
    assert json.loads(anonymous.get("/hub/api/user", headers=headers)[2])["name"] == ADA
    status, _, body = anonymous.get(WORKSPACES, headers=headers)
    assert status == 403, body
    assert b"Engines" not in body


def wait_stopped(browser: Browser, user_id: str, org: str | None, timeout: float = 60) -> None:
    name = server_name(org) if org else ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, _, body = browser.get(f"/hub/api/users/{quote(user_id)}")
        if status == 200 and name not in json.loads(body).get("servers", {}):
            return
        time.sleep(0.5)
    raise AssertionError(f"{name or 'the personal server'} of {user_id} is still running")


def test_a_forged_or_replayed_webhook_stops_nothing(hub: Hub, ada: Browser) -> None:
    membership = hub.in_instance(hub.instance.data.membership, ADA, PARTNERS)
    data = hub.in_instance(membership_json, membership, hub.instance.data)
    url = webhook_url(hub.url)

    def post(body: str, headers: dict[str, str]) -> int:
        return Browser(hub.url).get(
            url.removeprefix(hub.url), method="POST", body=body.encode(), headers=headers
        )[0]

    forger = new_webhook_secret()
    for event, body in [
        ("organizationMembership.deleted", data),
        ("organizationMembership.updated", {**data, "role": "org:viewer"}),
        ("organization.deleted", {"object": "organization", "id": PARTNERS, "deleted": True}),
    ]:
        assert post(*signed_delivery(forger, event, body)) == 400, event
    genuine = signed_delivery(hub.instance.webhooks.secret, "session.created", {})
    assert post(*genuine) == 204  # a genuine event the Hub has nothing to do for
    assert post(*genuine) == 400  # the same delivery again: a replay
    assert listing(ada, ADA, PARTNERS) == {"partners.txt"}, "her server must still run"


@pytest.fixture(scope="module")
def vera(hub: Hub) -> Browser:
    return sign_in(hub, VERA)


def test_clerk_roles_decide_write_and_execute_in_a_hub_mode_server(
    hub: Hub, ada: Browser, vera: Browser
) -> None:
    open_server(vera, VERA, ENGINES)
    engines = server_url(VERA, ENGINES)
    # Vera is org:viewer (org:jupyter:read only): she reads, but neither writes nor runs code.
    assert vera.get(engines + "api/contents/")[0] == 200
    assert vera.send("PUT", engines + "api/contents/notes.txt", _text_file()) == 403
    assert vera.send("POST", engines + "api/kernels", {"name": "python3"}) == 403
    # Ada is org:admin of the same organization: the same requests succeed in her server.
    mine = server_url(ADA, ENGINES)
    assert ada.send("PUT", mine + "api/contents/notes.txt", _text_file()) == 201
    assert (hub.workspace(f"orgs/{ENGINES}") / "notes.txt").read_text() == "hello"


def test_an_organization_admin_manages_that_organizations_servers_and_nothing_else(
    hub: Hub, ada: Browser, vera: Browser
) -> None:
    open_server(vera, VERA, None)
    grace = sign_in(hub, GRACE)  # admin of Difference Partners, where Vera is not
    engines = f"/hub/api/users/{quote(VERA)}/servers/{server_name(ENGINES)}"
    personal = f"/hub/api/users/{quote(VERA)}/server"
    for browser in (ada, grace):
        browser.get("/hub/home")  # the Hub's page sets the _xsrf cookie its script sends
    assert grace.send("DELETE", engines) in (403, 404)
    assert ada.send("DELETE", personal) in (403, 404)
    assert ada.send("DELETE", engines) in (202, 204)
    wait_stopped(vera, VERA, ENGINES)
    _, _, body = vera.get(f"/hub/api/users/{quote(VERA)}")
    assert "" in json.loads(body)["servers"], "Vera's personal server must still run"


def consent(browser: Browser, page: tuple[int, str, bytes]) -> None:
    """Press "Authorize" on the Hub's OAuth consent page (someone else's server)."""
    status, url, body = page
    assert status == 200 and "/hub/api/oauth2/authorize" in url, (status, url)
    form = body.decode()
    fields = [("_xsrf", html.unescape(re.search(r'name="_xsrf" value="([^"]*)"', form)[1]))]
    fields += [
        ("scopes", html.unescape(v)) for v in re.findall(r'name="scopes" value="([^"]*)"', form)
    ]
    parts = urlsplit(url)
    status, _, _ = browser.get(
        f"{parts.path}?{parts.query}",
        method="POST",
        body=urlencode(fields).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 200, status


def kernel_environment(user_id: str, server: str) -> dict[str, str]:
    """What `os.environ` holds in a kernel of that server (read from /proc: same OS user)."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            raw = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        environ = dict(
            v.decode(errors="replace").split("=", 1) for v in raw.split(b"\0") if b"=" in v
        )
        if (
            b"ipykernel" in command
            and environ.get("JUPYTERHUB_USER") == user_id
            and environ.get("JUPYTERHUB_SERVER_NAME") == server
        ):
            return environ
    raise AssertionError(f"no kernel of {user_id}/{server}")


def test_code_an_admin_runs_in_a_members_server_cannot_list_her_other_organizations(
    hub: Hub, ada: Browser
) -> None:
    """The attack (found in review): Grace, admin of Difference Partners only, runs a kernel in
    Ada's Difference Partners server; the kernel inherits the server's own Hub token, which
    JupyterHub lets read Ada's name and groups. The endpoint refuses it (checked: with
    `from_a_persons_browser` answering True, the request got 200 and "Analytical Engines")."""
    grace = sign_in(hub, GRACE)
    partners = server_url(ADA, PARTNERS)
    consent(grace, grace.get(partners + "lab"))
    assert grace.send("POST", partners + "api/kernels", {"name": "python3"}) == 201
    token = kernel_environment(ADA, server_name(PARTNERS))["JUPYTERHUB_API_TOKEN"]
    assert_a_valid_token_of_adas_cannot_list_them(hub, token)
    # Grace's own page token in that server lists her own workspaces, not Ada's.
    status, answer = workspaces(
        Browser(hub.url), {"Authorization": f"token {page_token(grace, ADA, PARTNERS)}"}
    )
    assert status == 200
    assert answer["user"] == GRACE
    assert PARTNERS in {w["workspace"] for w in answer["workspaces"]}
    assert ENGINES not in {w["workspace"] for w in answer["workspaces"]}


def administer(hub: Hub, change: object, *args: str) -> None:
    """What an administrator does in Clerk's dashboard, once its webhook has been answered."""
    hub.in_instance(change, *args)
    hub.run(hub.instance.webhooks.drain())
    event, status = hub.instance.webhooks.delivered[-1]
    assert status in (200, 204), (event, status)


def running(browser: Browser, user_id: str) -> set[str]:
    _, _, body = browser.get(f"/hub/api/users/{quote(user_id)}")
    return set(json.loads(body)["servers"])


def test_a_removed_organization_admin_can_no_longer_stop_its_members_servers(
    hub: Hub, ada: Browser
) -> None:
    """Before, a deleted membership stopped only the person's own server of that organization:
    Grace kept the group and the admin role over Ada's Difference Partners server until her
    next refresh (checked: this test failed against that code)."""
    grace = sign_in(hub, GRACE)  # admin of Difference Partners, where Ada is a member
    grace.get("/hub/home")
    administer(hub, hub.instance.remove_membership, GRACE, PARTNERS)
    assert PARTNERS not in json.loads(grace.get("/hub/api/user")[2])["groups"]
    partners = f"/hub/api/users/{quote(ADA)}/servers/{server_name(PARTNERS)}"
    assert grace.send("DELETE", partners) in (403, 404)
    assert grace.get(server_url(ADA, PARTNERS) + "api/contents/")[0] == 403
    assert server_name(PARTNERS) in running(ada, ADA)


def test_a_demoted_organization_admin_can_no_longer_stop_its_members_servers(
    hub: Hub, ada: Browser, vera: Browser
) -> None:
    """Before, `organizationMembership.updated` was not forwarded at all (checked: Ada, made
    a member, still stopped Vera's server)."""
    open_server(vera, VERA, ENGINES)
    administer(hub, hub.instance.change_membership_role, ADA, ENGINES, "org:member")
    engines = f"/hub/api/users/{quote(VERA)}/servers/{server_name(ENGINES)}"
    assert ada.send("DELETE", engines) in (403, 404)
    assert ada.get(server_url(VERA, ENGINES) + "api/contents/")[0] == 403
    assert server_name(ENGINES) in running(vera, VERA)
    # Her own rights there did not shrink (a member writes and runs code too): it keeps running.
    assert server_name(ENGINES) in running(ada, ADA)


def test_a_role_with_fewer_rights_stops_that_organizations_running_server(
    hub: Hub, ada: Browser
) -> None:
    """A running server keeps the rights it was started with (and its kernels hold them), so
    a role that may no longer write stops it; the next start gets the new role."""
    administer(hub, hub.instance.change_membership_role, ADA, PARTNERS, "org:viewer")
    wait_stopped(ada, ADA, PARTNERS)
    assert server_name(ENGINES) in running(ada, ADA), "only that organization's server stops"


def test_a_deleted_membership_stops_that_organizations_server(
    hub: Hub, ada: Browser, vera: Browser
) -> None:
    open_server(vera, VERA, ENGINES)
    hub.in_instance(hub.instance.remove_membership, VERA, ENGINES)  # sends the webhook
    wait_stopped(vera, VERA, ENGINES)
    _, _, body = vera.get(f"/hub/api/users/{quote(VERA)}")
    assert "" in json.loads(body)["servers"], "only that organization's server stops"
    # And it cannot be started again: the membership is checked at every spawn.
    assert vera.get(f"/hub/spawn/{quote(VERA)}/{server_name(ENGINES)}")[0] == 403


def test_a_deleted_organization_stops_its_servers_and_drops_its_group_and_admin_role(
    hub: Hub, ada: Browser
) -> None:
    assert server_name(ENGINES) in running(ada, ADA)
    administer(hub, hub.instance.delete_organization, ENGINES)
    wait_stopped(ada, ADA, ENGINES)
    assert ENGINES not in json.loads(ada.get("/hub/api/user")[2])["groups"]
    with closing(sqlite3.connect(hub.directory / "jupyterhub.sqlite")) as db:
        groups = {name for (name,) in db.execute("SELECT name FROM groups")}
        roles = {name for (name,) in db.execute("SELECT name FROM roles")}
    assert ENGINES not in groups
    assert admin_role_name(ENGINES) not in roles
    assert admin_role_name(PARTNERS) in roles  # the other organization's stays


def test_after_a_revoked_session_the_next_page_load_asks_for_sign_in(
    hub: Hub, ada: Browser
) -> None:
    assert ada.get("/hub/home")[1] == f"{hub.url}/hub/home"
    hub.in_instance(hub.instance.revoke_session, ada.session_id)  # sends the webhook
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, url, body = ada.get("/hub/home")
        if url != f"{hub.url}/hub/home":
            break
        time.sleep(0.3)
    assert url.startswith(f"{hub.url}/hub/clerk/sign-in"), url
    assert b"sign-in-link" in body
    # Her servers stopped with the session: the old server cookie opens nothing.
    status, url, _ = ada.get(server_url(ADA, ENGINES) + "api/contents/")
    assert status != 200 or "/hub/" in url, (status, url)


def _text_file() -> dict[str, str]:
    return {"type": "file", "format": "text", "content": "hello"}
