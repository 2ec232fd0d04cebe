"""What a person sees of their role in Chromium: a viewer's read-only workbench, a
non-member's notice with nothing running behind it, and the organization's event stream."""

from __future__ import annotations

import json

from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, WebSocket, expect

from tests.browser.conftest import Stack
from tests.browser.lab import fill_sign_in, new_notebook, sign_in, wait_for_lab
from tests.devinstance.helpers import ENGINES, GUILD

ADA = "Ada Lovelace"
ADA_EMAIL, VERA_EMAIL = "ada@example.com", "vera@example.com"
# A page load logs a few lines of its own (e.g. a favicon); a storm is hundreds.
MAX_CONSOLE_ERRORS = 5
NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "a1",
            "metadata": {},
            "outputs": [],
            "source": "print('shared')",
        }
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def workspace_url(stack: Stack, workspace: str) -> str:
    return f"{stack.url}/lab/workspaces/{workspace}"


def console_errors(page: Page) -> list[str]:
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    return errors


def test_a_viewer_sees_her_role_and_a_read_only_workbench(
    stack: Stack, context: BrowserContext, screenshot
):
    shared = stack.root / "orgs" / ENGINES
    shared.mkdir(parents=True, exist_ok=True)
    (shared / "shared.ipynb").write_text(json.dumps(NOTEBOOK))
    page = sign_in(context, workspace_url(stack, ENGINES), VERA_EMAIL)
    errors = console_errors(page)
    wait_for_lab(page)
    expect(page.locator("#jp-clerk-role")).to_have_text("· viewer")
    expect(page.locator(".jp-LauncherCard").first).to_be_hidden()
    expect(page.locator(".jp-Launcher-content").first).to_be_visible()
    new_folder = "#filebrowser [data-command='filebrowser:create-new-directory']"
    expect(page.locator(new_folder)).to_be_hidden()
    page.locator("#filebrowser .jp-DirListing-item", has_text="shared.ipynb").dblclick()
    panel = page.locator(".jp-NotebookPanel:visible")
    expect(panel.locator(".jp-Cell").first).to_be_visible()
    expect(panel.get_by_text("read-only", exact=False).first).to_be_visible()
    expect(page.locator(".jp-StatusBar-Widget", has_text="No Kernel")).to_be_visible()
    editor = panel.locator(".jp-Cell .cm-content").first
    editor.click()
    page.keyboard.type("typed-by-vera")
    expect(editor).to_have_text("print('shared')")
    screenshot(page, "viewer")
    # The restored layout opens the notebook again: no kernel errors replayed.
    page.reload()
    wait_for_lab(page)
    expect(page.locator(".jp-NotebookPanel:visible .jp-Cell").first).to_be_visible()
    page.wait_for_timeout(2000)
    expect(page.locator(".jp-Dialog")).to_have_count(0)
    screenshot(page, "viewer-restored")
    assert len(errors) <= MAX_CONSOLE_ERRORS, errors
    assert (shared / "shared.ipynb").read_text() == json.dumps(NOTEBOOK)


def test_a_non_member_sees_who_is_signed_in_and_nothing_starts_behind_the_notice(
    stack: Stack, context: BrowserContext, screenshot
):
    page = context.new_page()
    errors = console_errors(page)
    requests: list[str] = []
    guild_tokens: list[str] = []

    def on_request(request: Request) -> None:
        requests.append(request.url)
        if "/tokens" in request.url and GUILD in (request.post_data or ""):
            guild_tokens.append(request.url)

    page.on("request", on_request)
    page.goto(workspace_url(stack, GUILD))
    fill_sign_in(page, ADA_EMAIL)
    notice = page.locator(".jp-ClerkNotMember")
    expect(notice).to_contain_text("You are not a member of this organization")
    expect(notice).to_contain_text(f"Signed in as {ADA}")
    expect(notice.get_by_role("button", name="Sign out")).to_be_visible()
    asked = len(guild_tokens)
    page.wait_for_timeout(5000)
    screenshot(page, "not-a-member")
    # The old front end kept asking for the tab's organization's tokens about every 4 s.
    # (clerk-js refreshes its own session's token too: that one names the active organization.)
    assert guild_tokens[asked:] == []
    assert not [url for url in requests if "/api/contents" in url or "/lab/api/" in url]
    expect(page.locator(".jp-DirListing-content")).to_have_count(0)
    assert len(errors) <= MAX_CONSOLE_ERRORS, errors
    notice.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in again")).to_be_visible()


def test_an_organization_tab_hears_its_events_over_a_ticketed_websocket(
    stack: Stack, context: BrowserContext
):
    page = context.new_page()
    frames: list[str] = []
    socket_urls: list[str] = []

    def on_websocket(socket: WebSocket) -> None:
        socket_urls.append(socket.url)
        if "/api/events/subscribe" in socket.url:
            socket.on("framereceived", lambda payload: frames.append(str(payload)))

    page.on("websocket", on_websocket)
    page.goto(workspace_url(stack, ENGINES))
    fill_sign_in(page, ADA_EMAIL)
    wait_for_lab(page)
    new_notebook(page)
    page.wait_for_timeout(1000)
    events = [json.loads(frame) for frame in frames]
    assert any(
        event["schema_id"].endswith("/contents_service/v1") and event["path"].endswith(".ipynb")
        for event in events
    ), events
    assert any(event["schema_id"].endswith("/kernel_actions/v1") for event in events), events
    # Every WebSocket URL carries a single-use ticket, never the session token.
    assert socket_urls and all("ticket=wst_" in url for url in socket_urls), socket_urls
    assert not [url for url in socket_urls if "token=" in url], socket_urls
