"""JupyterLab with the extension in Chromium, on clerk-js 6 and 5: sign-in through Clerk's
<SignIn/>, one organization per tab, switching organization, fresh tokens, signing out
elsewhere, a revoked session, organizations the person does not belong to, and an
unreachable Frontend API."""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, Page, Request, Response, expect

from jupyter_clerk.auth.publishable_key import build_publishable_key
from tests.browser.conftest import TOKEN_LIFETIME, Stack
from tests.browser.lab import (
    SWITCHER,
    fill_sign_in,
    listed_files,
    new_notebook,
    open_lab,
    run_cell,
    session_id,
    sign_in,
    wait_for_lab,
)
from tests.devinstance.helpers import ADA as ADA_ID
from tests.devinstance.helpers import ENGINES, GUILD, PARTNERS

ADA = "Ada Lovelace"
ADA_EMAIL = "ada@example.com"


def workspace_url(stack: Stack, workspace: str) -> str:
    return f"{stack.url}/lab/workspaces/{workspace}"


def test_sign_in_through_clerks_form_comes_back_to_the_organization_in_the_url(
    stack: Stack, context: BrowserContext, screenshot
):
    page = context.new_page()
    page.goto(workspace_url(stack, PARTNERS))
    expect(page.get_by_label("Email address")).to_be_visible()  # Clerk's own <SignIn/>
    expect(page.locator("#hint")).to_contain_text(stack.instance.password)
    screenshot(page, "1-clerk-sign-in")
    fill_sign_in(page, ADA_EMAIL)
    wait_for_lab(page)
    assert page.url == workspace_url(stack, PARTNERS)
    expect(page.locator(SWITCHER)).to_have_attribute("data-workspace", PARTNERS)
    expect(page.locator(SWITCHER)).to_have_text("Difference Partners")
    assert page.title().startswith("Difference Partners · ")
    expect(page.locator("#jp-clerk-user")).to_contain_text(ADA)
    screenshot(page, "2-signed-in")


def test_switching_organization_moves_the_tab_and_its_kernels(
    stack: Stack, context: BrowserContext, screenshot
):
    page = sign_in(context, workspace_url(stack, ENGINES), ADA_EMAIL)
    wait_for_lab(page)
    page.locator(SWITCHER).click()
    page.locator(".jp-ClerkWorkspaceMenu").get_by_text("Difference Partners").first.click()
    page.wait_for_url(workspace_url(stack, PARTNERS))
    wait_for_lab(page)
    expect(page.locator(SWITCHER)).to_have_attribute("data-workspace", PARTNERS)
    new_notebook(page)
    run_cell(page, "open('switched.txt', 'w').write('moved')", "5")
    screenshot(page, "switched")
    assert (stack.root / "orgs" / PARTNERS / "switched.txt").read_text() == "moved"
    assert not (stack.root / "orgs" / ENGINES / "switched.txt").exists()


def test_two_tabs_work_in_two_organizations_at_once(
    stack: Stack, context: BrowserContext, screenshot
):
    engines = sign_in(context, workspace_url(stack, ENGINES), ADA_EMAIL)
    wait_for_lab(engines)
    partners = open_lab(context, workspace_url(stack, PARTNERS))
    for page, marker in ((engines, "engines-only"), (partners, "partners-only")):
        page.bring_to_front()
        new_notebook(page)
        # The kernel's working directory is the tab's organization directory.
        run_cell(page, f"open('{marker}.txt', 'w').write('{marker}')", str(len(marker)))
    screenshot(engines, "engines")
    screenshot(partners, "partners")
    engines_dir, partners_dir = stack.root / "orgs" / ENGINES, stack.root / "orgs" / PARTNERS
    assert (engines_dir / "engines-only.txt").read_text() == "engines-only"
    assert (partners_dir / "partners-only.txt").read_text() == "partners-only"
    assert (engines_dir / "Untitled.ipynb").is_file()
    assert (partners_dir / "Untitled.ipynb").is_file()
    engines.bring_to_front()
    engines_files = listed_files(engines)
    partners.bring_to_front()
    partners_files = listed_files(partners)
    assert "engines-only.txt" in engines_files and "partners-only.txt" not in engines_files
    assert "partners-only.txt" in partners_files and "engines-only.txt" not in partners_files


def bearer_tokens(page: Page, stack: Stack) -> tuple[list[str], list[int]]:
    """Records the bearer tokens the tab sends and every 401 it gets."""
    tokens: list[str] = []
    refused: list[int] = []

    def on_request(request: Request) -> None:
        authorization = request.headers.get("authorization", "")
        if request.url.startswith(stack.url) and authorization.startswith("Bearer "):
            tokens.append(authorization)

    def on_response(response: Response) -> None:
        if response.url.startswith(stack.url) and response.status == 401:
            refused.append(response.status)

    page.on("request", on_request)
    page.on("response", on_response)
    return tokens, refused


def test_a_tab_keeps_working_past_several_token_lifetimes(
    stack: Stack, context: BrowserContext, screenshot
):
    page = sign_in(context, workspace_url(stack, ENGINES), ADA_EMAIL)
    tokens, refused = bearer_tokens(page, stack)
    wait_for_lab(page)
    new_notebook(page)
    run_cell(page, "x = 20; x + 1", "21")
    for step in range(3):
        page.wait_for_timeout(TOKEN_LIFETIME * 1000)
        run_cell(page, f"x + {step + 2}", str(22 + step))
    new_notebook(page)  # a new kernel: a new WebSocket, opened with a fresh token
    run_cell(page, "'still here'", "'still here'")
    screenshot(page, "after-refreshes")
    assert len(set(tokens)) >= 3
    assert refused == []


def test_signing_out_in_one_tab_shows_the_other_tab_a_signed_out_dialog(
    stack: Stack, context: BrowserContext, screenshot
):
    first = sign_in(context, workspace_url(stack, ENGINES), ADA_EMAIL)
    wait_for_lab(first)
    signed_in_as = session_id(context)
    second = open_lab(context, workspace_url(stack, PARTNERS))
    first.bring_to_front()
    first.locator("#jp-clerk-user button").click()
    # Under heavy load the navigation to /logout has taken over 30 s: not waited for here.
    first.get_by_text("Sign out", exact=True).click(no_wait_after=True)
    dialog = second.locator(".jp-Dialog")
    expect(dialog).to_contain_text("You are signed out", timeout=30_000)
    assert stack.instance.store.session(signed_in_as).status == "ended"
    expect(first.get_by_text("You have left Jupyter")).to_be_visible(timeout=60_000)
    screenshot(second, "signed-out-dialog")
    dialog.get_by_role("button", name="Sign in again").click()
    expect(second.get_by_label("Email address")).to_be_visible()


def test_a_revoked_session_shows_the_signed_out_dialog(
    stack: Stack, context: BrowserContext, screenshot
):
    page = sign_in(context, workspace_url(stack, ENGINES), ADA_EMAIL)
    wait_for_lab(page)
    stack.revoke_session(session_id(context))
    expect(page.locator(".jp-Dialog")).to_contain_text(
        "You are signed out", timeout=(TOKEN_LIFETIME + 15) * 1000
    )
    screenshot(page, "revoked")


def test_an_organization_the_person_is_not_in_shows_a_message_and_their_organizations(
    stack: Stack, context: BrowserContext, screenshot
):
    page = sign_in(context, workspace_url(stack, GUILD), ADA_EMAIL)
    notice = page.locator(".jp-ClerkNotMember")
    expect(notice).to_contain_text("You are not a member of this organization")
    expect(notice.get_by_role("link", name="Analytical Engines")).to_have_attribute(
        "href", re.compile(f"/lab/workspaces/{ENGINES}$")
    )
    screenshot(page, "not-a-member")
    assert not (stack.root / "orgs" / GUILD).exists()


def test_an_unreachable_frontend_api_is_reported_with_its_url(
    stack: Stack, context: BrowserContext, screenshot
):
    # The bundles load, but every Frontend API call fails, as with a wrong proxy URL.
    context.route(f"{stack.instance.url}/v1/**", lambda route: route.abort())
    page = context.new_page()
    page.goto(workspace_url(stack, ENGINES))
    expect(page.locator("#status")).to_have_text(
        f"Clerk's Frontend API at {stack.instance.url} could not be reached.", timeout=60_000
    )
    expect(page.get_by_label("Email address")).to_have_count(0)
    screenshot(page, "unreachable-sign-in")
    # JupyterLab itself, opened with a valid session cookie: the same, with the same URL.
    session = stack.run(create_session(stack))
    token = stack.instance.session_token(session.id)
    context.add_cookies([{"name": "__session", "value": token, "url": stack.url}])
    lab = context.new_page()
    lab.goto(workspace_url(stack, ENGINES))
    dialog = lab.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Clerk is unreachable", timeout=60_000)
    expect(dialog).to_contain_text(f"Frontend API at {stack.instance.url} could not be reached")
    screenshot(lab, "unreachable-lab")


async def create_session(stack: Stack):
    return stack.instance.create_session(ADA_ID, ENGINES)


DEV_BROWSER_PAGE = """<!doctype html><body><script src="{clerk_js}" crossorigin="anonymous"
  data-clerk-publishable-key="{key}" data-clerk-proxy-url="{proxy}"></script></body>"""


def test_a_development_domain_key_uses_the_dev_browser_handshake(
    stack: Stack, context: BrowserContext
):
    """A key on Clerk's development domains makes clerk-js identify the browser by a dev
    browser token (`__clerk_db_jwt`) instead of a cookie; the local instance serves that too.
    """
    version = stack.clerk_js_version
    html = DEV_BROWSER_PAGE.format(
        clerk_js=f"{stack.instance.url}/npm/@clerk/clerk-js@{version}/dist/clerk.browser.js",
        key=build_publishable_key("happy-otter-12.clerk.accounts.dev"),
        proxy=stack.instance.url,
    )
    page = context.new_page()
    # A page of the Jupyter origin (allowed by the instance, on loopback as Chromium's local
    # network access rules want, and with no script-blocking CSP), replaced by the test page.
    page.goto(f"{stack.url}/logout")
    page.set_content(html)
    with page.expect_request(re.compile(r"/v1/dev_browser\?")):
        page.evaluate("Clerk.load()")
    created = page.evaluate(
        """async password => {
            const signIn = await Clerk.client.signIn.create(
                { identifier: 'ada@example.com', strategy: 'password', password });
            await Clerk.setActive({ session: signIn.createdSessionId });
            return Clerk.session.id;
        }""",
        stack.instance.password,
    )
    assert stack.instance.store.session(created).user_id == ADA_ID
    assert not [c for c in context.cookies() if c["name"] == "__clerk_dev_client"]
