"""Chromium against the real Hub: Ada signs in at the Hub and works in two organizations at
once, one tab each, each tab its own single-user server, cookie and directory."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from jupyter_clerk.hub.names import server_name
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.lab import fill_sign_in, new_notebook, run_cell
from tests.hub.conftest import ADA, ENGINES, PARTNERS, Hub

ADA_EMAIL = "ada@example.com"


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


def spawn_url(hub: Hub, org: str) -> str:
    return f"{hub.url}/hub/spawn/{quote(ADA)}/{server_name(org)}"


def wait_for_lab(page: Page) -> None:
    # Behind the Hub, JupyterLab runs without the Clerk top bar: the Hub signs people in.
    page.wait_for_selector(".jp-DirListing-content", timeout=120_000)


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
