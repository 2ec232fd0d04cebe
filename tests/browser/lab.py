"""Driving JupyterLab in a tab the way a person does: sign in through Clerk's <SignIn/>, open a
notebook, run a cell."""

from __future__ import annotations

import jwt
from playwright.sync_api import BrowserContext, Page, expect

SWITCHER = "#jp-clerk-workspace button"


def new_tab(context: BrowserContext) -> Page:
    """A tab that leaves when told to. The module's tests share JupyterLab workspaces, so a
    tab may restore a notebook an earlier test left unsaved, and JupyterLab then asks before
    the page is left (signing out, switching organization): the person says yes."""
    page = context.new_page()
    page.on("dialog", lambda d: d.accept() if d.type == "beforeunload" else d.dismiss())
    return page


def open_lab(context: BrowserContext, url: str) -> Page:
    """A new tab at `url`, already signed in (the context holds Clerk's cookies)."""
    page = new_tab(context)
    page.goto(url)
    wait_for_lab(page)
    return page


def sign_in(context: BrowserContext, url: str, email: str) -> Page:
    """A new tab at `url` that signs in through Clerk's <SignIn/> and comes back."""
    page = new_tab(context)
    page.goto(url)
    fill_sign_in(page, email)
    return page


def fill_sign_in(page: Page, email: str) -> None:
    """Clerk's two-step form: the email, then the password the page shows."""
    hint = page.locator("#hint")
    expect(hint).to_contain_text("password")
    password = hint.inner_text().rsplit(" ", 1)[-1]
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Continue", exact=True).click()
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Continue", exact=True).click()


def wait_for_lab(page: Page) -> None:
    page.wait_for_selector(SWITCHER)
    page.wait_for_selector(".jp-DirListing-content")


def session_id(context: BrowserContext) -> str:
    cookie = next(c for c in context.cookies() if c["name"] == "__session")
    return jwt.decode(cookie["value"], options={"verify_signature": False})["sid"]


def new_notebook(page: Page) -> None:
    """A new notebook from a launcher (a new one if none is showing): a new kernel."""
    card = page.locator(".jp-LauncherCard[data-category='Notebook']:visible").first
    if not card.is_visible():
        page.locator(".lm-TabBar-addButton:visible").first.click()
    card.click()
    page.wait_for_selector(".jp-NotebookPanel:visible .jp-Cell .cm-content")
    # Cells run before the kernel is connected are not executed at all.
    expect(page.locator(".jp-StatusBar-Widget", has_text="| Idle")).to_be_visible(timeout=60_000)


def run_cell(page: Page, code: str, expected_output: str) -> None:
    """Type `code` in the last cell of the current notebook, run it, wait for the output."""
    cell = page.locator(".jp-NotebookPanel:visible .jp-Cell .cm-content").last
    cell.click()
    page.keyboard.type(code)
    page.keyboard.press("Shift+Enter")
    output = page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output").last
    expect(output).to_have_text(expected_output, timeout=60_000)


def listed_files(page: Page) -> set[str]:
    """The file browser's listing after a refresh."""
    refresh = "#filebrowser .jp-ToolbarButtonComponent[data-command='filebrowser:refresh']"
    page.locator(refresh).click()
    page.wait_for_timeout(500)
    return set(page.locator("#filebrowser .jp-DirListing-itemText").all_inner_texts())
