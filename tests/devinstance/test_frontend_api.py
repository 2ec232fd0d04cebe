"""The Frontend API as clerk-js 5 and 6 call it: loading, password sign-in, `setActive`,
tokens, memberships, sign-out, `?_method=` tunnelling, dev browsers and the bundles."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from jupyter_clerk.devinstance import DevInstance
from jupyter_clerk.devinstance.bundles import bundle_path, npm_root
from jupyter_clerk.devinstance.frontend_state import DEMO_PASSWORD

from .helpers import ADA, ENGINES, GUILD, JUPYTER, PARTNERS, assert_clerk_error, body, call

VERSION_QUERY = "__clerk_api_version=2025-11-10&_clerk_js_version=5.128.0"
ORIGIN = {"Origin": JUPYTER}


class Browser:
    """One browser's cookie jar against the instance's Frontend API."""

    def __init__(self, instance: DevInstance) -> None:
        self.instance = instance
        self.cookies: dict[str, str] = {}

    async def call(self, method: str, path: str, form: dict[str, str] | None = None, **kw: Any):
        separator = "&" if "?" in path else "?"
        headers = {**ORIGIN, **kw.pop("headers", {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = await call(
            self.instance,
            method,
            f"{path}{separator}{VERSION_QUERY}",
            bearer=False,
            form=form,
            headers=headers,
        )
        for header in response.headers.get_list("Set-Cookie"):
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";")[0]
        return response

    async def sign_in(self, identifier: str = "ada@example.com") -> dict[str, Any]:
        started = await self.call("POST", "/v1/client/sign_ins", {"identifier": identifier})
        assert started.code == 200, started.body
        attempt = body(started)["response"]
        assert attempt["status"] == "needs_first_factor"
        assert attempt["supported_first_factors"] == [{"strategy": "password"}]
        done = await self.call(
            "POST",
            f"/v1/client/sign_ins/{attempt['id']}/attempt_first_factor",
            {"strategy": "password", "password": DEMO_PASSWORD},
        )
        assert done.code == 200, done.body
        return body(done)


@pytest.fixture
def browser(clerk_instance: DevInstance) -> Browser:
    return Browser(clerk_instance)


def claims(instance: DevInstance, token: str) -> dict[str, Any]:
    return jwt.decode(token, instance.public_key_pem, algorithms=["RS256"], issuer=instance.issuer)


async def test_loading_serves_the_environment_and_no_client_yet(browser: Browser) -> None:
    environment = await browser.call("POST", "/v1/environment?_method=PATCH")
    settings = body(environment)
    assert settings["object"] == "environment"
    assert settings["organization_settings"]["enabled"] is True
    assert settings["user_settings"]["attributes"]["password"]["enabled"] is True
    assert environment.headers["Access-Control-Allow-Origin"] == JUPYTER
    assert environment.headers["Access-Control-Allow-Credentials"] == "true"
    client = await browser.call("GET", "/v1/client")
    assert body(client) == {"response": None, "client": None}


async def test_password_sign_in_creates_a_session_in_the_first_organization(
    browser: Browser, clerk_instance: DevInstance
) -> None:
    answer = await browser.sign_in()
    attempt, client = answer["response"], answer["client"]
    assert attempt["status"] == "complete"
    assert client["last_active_session_id"] == attempt["created_session_id"]
    (session,) = client["sessions"]
    assert session["user"]["id"] == ADA
    assert session["last_active_organization_id"] == ENGINES
    token = claims(clerk_instance, session["last_active_token"]["jwt"])
    assert token["o"]["id"] == ENGINES and token["azp"] == JUPYTER
    # Browsers never see what only the Backend API may show.
    assert "private_metadata" not in str(client)
    reloaded = body(await browser.call("GET", "/v1/client"))["response"]
    assert reloaded["sessions"][0]["id"] == session["id"]


async def test_sign_in_in_one_call_with_strategy_password(browser: Browser) -> None:
    response = await browser.call(
        "POST",
        "/v1/client/sign_ins",
        {"identifier": "ada@example.com", "strategy": "password", "password": DEMO_PASSWORD},
    )
    assert body(response)["response"]["status"] == "complete"


async def test_wrong_password_and_unknown_person_are_refused(browser: Browser) -> None:
    unknown = await browser.call("POST", "/v1/client/sign_ins", {"identifier": "eve@evil.test"})
    assert_clerk_error(unknown, 422, "form_identifier_not_found")
    started = await browser.call("POST", "/v1/client/sign_ins", {"identifier": "ada@example.com"})
    attempt_id = body(started)["response"]["id"]
    wrong = await browser.call(
        "POST",
        f"/v1/client/sign_ins/{attempt_id}/attempt_first_factor",
        {"strategy": "password", "password": "not-" + DEMO_PASSWORD},
    )
    assert_clerk_error(wrong, 422, "form_password_incorrect")
    assert body(await browser.call("GET", "/v1/client"))["response"]["sessions"] == []


async def test_another_browser_cannot_finish_or_use_someone_elses_sign_in(
    browser: Browser, clerk_instance: DevInstance
) -> None:
    started = await browser.call("POST", "/v1/client/sign_ins", {"identifier": "ada@example.com"})
    attempt_id = body(started)["response"]["id"]
    victim = Browser(clerk_instance)
    session_id = (await victim.sign_in("grace@example.com"))["response"]["created_session_id"]
    attacker = Browser(clerk_instance)
    await attacker.call("POST", "/v1/client/sign_ins", {"identifier": "grace@example.com"})
    stolen = await attacker.call(
        "POST",
        f"/v1/client/sign_ins/{attempt_id}/attempt_first_factor",
        {"strategy": "password", "password": DEMO_PASSWORD},
    )
    assert_clerk_error(stolen, 404, "resource_not_found")
    token = await attacker.call("POST", f"/v1/client/sessions/{session_id}/tokens")
    assert_clerk_error(token, 404, "resource_not_found")


async def test_set_active_switches_organization_only_to_a_membership(
    browser: Browser, clerk_instance: DevInstance
) -> None:
    session_id = (await browser.sign_in())["response"]["created_session_id"]
    touch = f"/v1/client/sessions/{session_id}/touch"
    moved = body(await browser.call("POST", touch, {"active_organization_id": PARTNERS}))
    assert moved["response"]["last_active_organization_id"] == PARTNERS
    assert moved["client"]["sessions"][0]["last_active_organization_id"] == PARTNERS
    refused = await browser.call("POST", touch, {"active_organization_id": GUILD})
    assert_clerk_error(refused, 403, "not_a_member_in_organization")
    personal = body(await browser.call("POST", touch, {"active_organization_id": ""}))
    assert personal["response"]["last_active_organization_id"] is None


async def test_tokens_for_an_organization_or_personal(
    browser: Browser, clerk_instance: DevInstance
) -> None:
    session_id = (await browser.sign_in())["response"]["created_session_id"]
    tokens = f"/v1/client/sessions/{session_id}/tokens"
    partners = body(await browser.call("POST", tokens, {"organization_id": PARTNERS}))
    assert claims(clerk_instance, partners["jwt"])["o"]["id"] == PARTNERS
    personal = body(await browser.call("POST", tokens, {"organization_id": ""}))
    assert "o" not in claims(clerk_instance, personal["jwt"])


async def test_membership_listing_is_paginated_and_public(browser: Browser) -> None:
    await browser.sign_in()
    page = body(await browser.call("GET", "/v1/me/organization_memberships?limit=1&offset=1"))
    assert page["response"]["total_count"] == 2
    (membership,) = page["response"]["data"]
    assert membership["organization"]["id"] == PARTNERS
    assert "private_metadata" not in str(page)
    bad = await browser.call("GET", "/v1/me/organization_memberships?limit=x")
    assert_clerk_error(bad, 400, "form_param_value_invalid")


async def test_sign_out_through_method_delete_ends_the_sessions(
    browser: Browser, clerk_instance: DevInstance
) -> None:
    session_id = (await browser.sign_in())["response"]["created_session_id"]
    signed_out = await browser.call("POST", "/v1/client/sessions?_method=DELETE")
    assert signed_out.code == 200
    assert body(signed_out)["client"]["sessions"] == []
    assert clerk_instance.store.session(session_id).status == "ended"
    token = await browser.call("POST", f"/v1/client/sessions/{session_id}/tokens")
    assert_clerk_error(token, 401, "session_not_active")


@pytest.mark.parametrize(("action", "status"), [("end", "ended"), ("remove", "removed")])
async def test_signing_out_of_one_session(
    browser: Browser, clerk_instance: DevInstance, action: str, status: str
) -> None:
    session_id = (await browser.sign_in())["response"]["created_session_id"]
    answer = body(await browser.call("POST", f"/v1/client/sessions/{session_id}/{action}"))
    assert answer["response"]["status"] == status and answer["client"]["sessions"] == []
    assert clerk_instance.store.session(session_id).status == status


async def test_destroying_the_client_ends_its_sessions(
    browser: Browser, clerk_instance: DevInstance
) -> None:
    session_id = (await browser.sign_in())["response"]["created_session_id"]
    assert (await browser.call("POST", "/v1/client?_method=DELETE")).code == 200
    assert clerk_instance.store.session(session_id).status == "ended"
    stranger = Browser(clerk_instance)
    assert_clerk_error(await stranger.call("POST", "/v1/client?_method=DELETE"), 401, "signed_out")


async def test_a_session_revoked_elsewhere_disappears_from_the_client(
    browser: Browser, clerk_instance: DevInstance
) -> None:
    session_id = (await browser.sign_in())["response"]["created_session_id"]
    clerk_instance.revoke_session(session_id)
    client = body(await browser.call("GET", "/v1/client"))["response"]
    assert client["sessions"] == [] and client["last_active_session_id"] is None


async def test_method_tunnelling_is_limited(browser: Browser) -> None:
    on_get = await browser.call("GET", "/v1/client?_method=DELETE")
    assert_clerk_error(on_get, 400, "form_param_value_invalid")
    unknown = await browser.call("POST", "/v1/client/sessions?_method=TRACE")
    assert_clerk_error(unknown, 400, "form_param_value_invalid")


async def test_foreign_origins_cannot_sign_in(browser: Browser) -> None:
    response = await browser.call(
        "POST",
        "/v1/client/sign_ins",
        {"identifier": "ada@example.com", "strategy": "password", "password": DEMO_PASSWORD},
        headers={"Origin": "http://evil.test"},
    )
    assert_clerk_error(response, 403, "origin_invalid")
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_dev_browser_token_stands_in_for_the_client_cookie(
    clerk_instance: DevInstance,
) -> None:
    browser = Browser(clerk_instance)
    created = body(await browser.call("POST", "/v1/dev_browser"))
    token = created["id"]
    assert token.startswith("dvb_") and not browser.cookies
    with_token = Browser(clerk_instance)
    answer = await with_token.call(
        "POST",
        f"/v1/client/sign_ins?__clerk_db_jwt={token}",
        {"identifier": "ada@example.com", "strategy": "password", "password": DEMO_PASSWORD},
    )
    assert body(answer)["response"]["status"] == "complete"
    assert not with_token.cookies  # no cookie: the token is the client's handle
    client = body(await with_token.call("GET", f"/v1/client?__clerk_db_jwt={token}"))
    assert client["response"]["sessions"][0]["user"]["id"] == ADA
    guessed = body(await with_token.call("GET", "/v1/client?__clerk_db_jwt=dvb_guess"))
    assert guessed["response"] is None


@pytest.mark.parametrize(
    ("package", "version", "name", "folder"),
    [
        ("@clerk/clerk-js", "5", "clerk.browser.js", "clerk-js-5"),
        ("@clerk/clerk-js", "5.128.0", "clerk.browser.js", "clerk-js-5"),
        ("@clerk/clerk-js", "6", "clerk.browser.js", "@clerk/clerk-js"),
        ("@clerk/clerk-js", "latest", "clerk.browser.js", "@clerk/clerk-js"),
        ("@clerk/ui", "1", "ui.browser.js", "@clerk/ui"),
    ],
)
def test_bundles_map_any_version_path_to_the_installed_major(
    package: str, version: str, name: str, folder: str
) -> None:
    path = bundle_path(npm_root(), package, version, name)
    assert path == npm_root() / folder / "dist" / name


@pytest.mark.parametrize(
    ("version", "name"),
    [
        ("4", "clerk.browser.js"),
        ("6", "../package.json"),
        ("6", "..%2Fpackage.json"),
        ("6", ".env"),
        ("6/..", "x.js"),
    ],
)
def test_bundles_refuse_other_majors_and_other_files(version: str, name: str) -> None:
    # `../package.json` exists next to `dist/`: only the file-name rule keeps it out.
    assert bundle_path(npm_root(), "@clerk/clerk-js", version, name) is None


async def test_bundles_are_served_to_any_origin(clerk_instance: DevInstance) -> None:
    served = await call(
        clerk_instance, "GET", "/npm/@clerk/clerk-js@6/dist/clerk.browser.js", bearer=False
    )
    assert served.code == 200 and served.headers["Access-Control-Allow-Origin"] == "*"
    missing = await call(
        clerk_instance, "GET", "/npm/@clerk/clerk-js@6/dist/../package.json", bearer=False
    )
    assert missing.code == 404


async def test_tokens_are_only_issued_for_allowed_origins(browser: Browser) -> None:
    """Clerk issues session tokens only for the instance's allowed origins: a foreign `Origin`
    must never end up in a token's `azp` (here it did, copied unchecked, on GET /v1/client)."""
    await browser.sign_in()
    foreign = await browser.call("GET", "/v1/client", headers={"Origin": "http://evil.test"})
    assert_clerk_error(foreign, 403, "origin_invalid")
    assert b"eyJ" not in foreign.body  # no token in the refusal
    own = body(await browser.call("GET", "/v1/client"))["response"]
    token = own["sessions"][0]["last_active_token"]["jwt"]
    assert claims(browser.instance, token)["azp"] == JUPYTER
