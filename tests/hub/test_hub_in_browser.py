"""Chromium against the real Hub: Ada signs in at the Hub and works in two organizations at
once, one tab each, each tab its own single-user server, cookie and directory; JupyterLab's top
bar switches between her servers, starting them at the Hub when they are not running."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    expect,
    sync_playwright,
)

from jupyter_clerk.hub.names import server_name
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, free_port
from tests.browser.lab import SWITCHER, fill_sign_in, new_notebook, new_tab, run_cell
from tests.hub.conftest import ADA, ENGINES, PARTNERS, VERA, Hub
from tests.hub.stack import run_hub

ADA_EMAIL = "ada@example.com"
VERA_EMAIL = "vera@example.com"


# Another origin of the same site (cookies are not scoped by port), served from loopback.
ATTACKER_PORT = free_port()
ATTACKER = f"http://127.0.0.1:{ATTACKER_PORT}"


class _AttackerPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<p>cats</p>")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def attacker_site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", ATTACKER_PORT), _AttackerPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield ATTACKER
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """The Hub of `conftest`, showing its progress page at every spawn however fast, and
    misconfigured to let the attacker's origin read its answers (CORS with credentials), so
    that only the Hub's own checks stand between that page and a person's workspaces."""
    settings = {
        "slow_spawn_timeout": 0,
        "headers": {
            "Access-Control-Allow-Origin": ATTACKER,
            "Access-Control-Allow-Credentials": "true",
        },
    }
    extra = f"c.JupyterHub.tornado_settings = {settings!r}\n"
    with run_hub(tmp_path_factory.mktemp("hub"), extra) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """One browser profile: its tabs share cookies, as a person's tabs do."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(30_000)
    yield context
    context.close()


def spawn_url(hub: Hub, org: str, user: str = ADA) -> str:
    return f"{hub.url}/hub/spawn/{quote(user)}/{server_name(org)}"


def lab_url(hub: Hub, org: str | None, user: str = ADA) -> str:
    return f"{hub.url}/user/{quote(user)}/" + (f"{server_name(org)}/" if org else "") + "lab"


def wait_for_lab(page: Page) -> None:
    # Behind the Hub, the top bar is the hub one: it switches between the person's servers.
    page.wait_for_selector(".jp-DirListing-content", timeout=120_000)
    page.wait_for_selector(SWITCHER)


def switcher(page: Page) -> Locator:
    return page.locator(SWITCHER)


def open_menu(page: Page) -> Locator:
    switcher(page).click()
    menu = page.locator(".jp-ClerkWorkspaceMenu")
    expect(menu).to_be_visible()
    return menu


def offered(menu: Locator) -> Locator:
    """The workspaces a menu offers to switch to (not its "Open in a new tab" submenu)."""
    return menu.locator("[data-type='command'] .lm-Menu-itemLabel")


def stop_server(hub: Hub, context: BrowserContext, user: str, org: str) -> None:
    """What the Hub's home page does with its Stop button (cookie and XSRF token)."""
    context.request.get(f"{hub.url}/hub/home")  # a page view: the Hub sets its _xsrf cookie
    cookies = context.cookies(f"{hub.url}/hub/")
    xsrf = next(c["value"] for c in cookies if c["name"] == "_xsrf" and c["path"] == "/hub/")
    servers = f"{hub.url}/hub/api/users/{quote(user)}"
    response = context.request.delete(
        f"{servers}/servers/{server_name(org)}", headers={"X-XSRFToken": xsrf}
    )
    assert response.status in (202, 204, 404), response.status
    deadline = time.monotonic() + 60
    while server_name(org) in context.request.get(servers).json()["servers"]:
        assert time.monotonic() < deadline, "the server did not stop"
        time.sleep(0.3)


def test_ada_runs_cells_in_two_organizations_in_two_tabs(
    hub: Hub,
    context: BrowserContext,
) -> None:
    engines = context.new_page()
    engines.goto(spawn_url(hub, ENGINES))  # not signed in: the Hub sends her to Clerk
    fill_sign_in(engines, ADA_EMAIL)  # Clerk's <SignIn/> on the Hub's sign-in page
    wait_for_lab(engines)
    assert f"/user/{ADA}/{server_name(ENGINES)}/" in engines.url

    partners = context.new_page()
    partners.goto(spawn_url(hub, PARTNERS))  # signed in at the Hub: straight to her server
    wait_for_lab(partners)
    assert f"/user/{ADA}/{server_name(PARTNERS)}/" in partners.url

    for page, org in ((engines, ENGINES), (partners, PARTNERS)):
        page.bring_to_front()
        new_notebook(page)
        run_cell(page, "import os; print(os.getcwd())", str(hub.workspace(f"orgs/{org}")))

    # Two servers, two cookies, each scoped to its own server's path.
    paths = {
        c["path"].rstrip("/") for c in context.cookies() if c["name"].startswith("jupyterhub-user-")
    }
    assert {f"/user/{ADA}/{server_name(ENGINES)}", f"/user/{ADA}/{server_name(PARTNERS)}"} <= paths
    expect(engines.locator(".jp-NotebookPanel:visible")).to_have_count(1)


def test_ada_switches_organizations_from_the_top_bar_starting_servers_as_needed(
    hub: Hub, context: BrowserContext
) -> None:
    page = new_tab(context)  # says yes when JupyterLab asks before leaving
    # A server started again restores the notebook an earlier test left open, whose kernel
    # is gone: JupyterLab asks for one, whenever it gets there.
    page.add_locator_handler(
        page.locator(".jp-Dialog", has_text="Select Kernel"),
        lambda dialog: dialog.locator(".jp-mod-accept").click(),
    )
    page.goto(spawn_url(hub, ENGINES))
    fill_sign_in(page, ADA_EMAIL)
    wait_for_lab(page)
    stop_server(hub, context, ADA, PARTNERS)  # whatever an earlier test left running
    expect(switcher(page)).to_have_text("Analytical Engines")

    # Her other workspaces, by name; Difference Partners is not running: the Hub starts it.
    menu = open_menu(page)
    expect(offered(menu)).to_have_text(["Difference Partners", "Personal"])
    menu.get_by_text("Difference Partners").click()
    page.wait_for_url(f"**/hub/spawn-pending/{ADA}/{server_name(PARTNERS)}**")  # its progress
    wait_for_lab(page)
    assert page.url.startswith(lab_url(hub, PARTNERS)), page.url
    expect(switcher(page)).to_have_text("Difference Partners")
    new_notebook(page)
    run_cell(page, "import os; print(os.getcwd())", str(hub.workspace(f"orgs/{PARTNERS}")))

    # A modified click opens a running server in a new tab (the Hub sends it straight there).
    with context.expect_page() as opened:
        open_menu(page).get_by_text("Analytical Engines").click(modifiers=["Control"])
    engines = opened.value
    engines.wait_for_url(f"{lab_url(hub, ENGINES)}**")
    wait_for_lab(engines)
    assert page.url.startswith(lab_url(hub, PARTNERS)), "this tab stays where it was"

    # Back to her personal workspace in this tab.
    open_menu(page).get_by_text("Personal").click()
    wait_for_lab(page)
    assert page.url.startswith(lab_url(hub, None)), page.url
    expect(switcher(page)).to_have_text("Personal")


def test_a_person_with_one_organization_is_offered_only_hers(
    hub: Hub, context: BrowserContext
) -> None:
    page = new_tab(context)
    page.goto(spawn_url(hub, ENGINES, VERA))
    fill_sign_in(page, VERA_EMAIL)
    wait_for_lab(page)
    expect(switcher(page)).to_have_text("Analytical Engines")
    expect(offered(open_menu(page))).to_have_text(["Personal"])


def test_another_sites_page_cannot_read_a_signed_in_persons_workspaces(
    hub: Hub, context: BrowserContext, attacker_site: str
) -> None:
    """The attack: Vera, signed in at the Hub, visits a page of another origin that fetches
    her list with her Hub cookie. Checked with the protection off (the Hub's XSRF check made a
    no-op in `HubWorkspacesHandler`): this page read 200 and her organizations."""
    page = new_tab(context)
    page.goto(spawn_url(hub, ENGINES, VERA))
    fill_sign_in(page, VERA_EMAIL)
    wait_for_lab(page)
    attacker = context.new_page()
    attacker.goto(f"{attacker_site}/cats")
    status, body = attacker.evaluate(
        """async url => {
            const response = await fetch(url, { credentials: 'include' });
            return [response.status, await response.text()];
        }""",
        f"{hub.url}/hub/api/clerk/workspaces",
    )
    assert status == 403, (status, body)
    assert ENGINES not in body and "Analytical Engines" not in body
