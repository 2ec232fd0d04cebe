"""Sign-in, handshake, sign-out and the Frontend API token endpoint, as a browser sees them."""

from urllib.parse import parse_qs, quote, urlsplit

import jwt
import pytest
from tornado.httpclient import HTTPResponse

from jupyter_clerk.devinstance import DevInstance

from .helpers import (
    ADA,
    ENGINES,
    GRACE,
    JUPYTER,
    LAB,
    LINUS,
    PARTNERS,
    assert_clerk_error,
    body,
    call,
    cookie_header,
    open_sign_in,
    set_cookies,
    sign_in,
)


def claims_of(instance: DevInstance, token: str) -> dict:
    return jwt.decode(
        token, key=instance.public_key_pem, algorithms=["RS256"], issuer=instance.issuer
    )


async def test_sign_in_page_lists_demo_users_with_their_orgs(clerk_instance: DevInstance) -> None:
    html, cookies = await open_sign_in(clerk_instance)
    for text in ("Ada Lovelace", "ada@example.com", "Analytical Engines", "Difference Partners"):
        assert text in html
    assert "Grace Hopper" in html and "Vera Viewer" in html and "No organizations" in html
    assert "__clerk_dev_xsrf" in cookies and "_xsrf" not in cookies


async def test_sign_in_escapes_the_redirect_url_in_the_page(clerk_instance: DevInstance) -> None:
    html, _ = await open_sign_in(clerk_instance, JUPYTER + '/lab?"><script>x</script>')
    assert "<script>x" not in html


async def test_sign_in_sets_clerks_cookies_and_redirects(clerk_instance: DevInstance) -> None:
    response, _ = await sign_in(clerk_instance, ADA)
    assert response.code == 302
    assert response.headers["Location"] == LAB
    jar = set_cookies(response)
    session_cookie, uat, client = jar["__session"], jar["__client_uat"], jar["__clerk_dev_client"]
    assert not session_cookie["httponly"] and session_cookie["samesite"] == "Lax"
    assert session_cookie["path"] == "/" and not session_cookie["domain"]
    assert client["httponly"] and client.value.startswith("client_")
    assert uat.value.isdigit() and int(uat.value) > 0
    claims = claims_of(clerk_instance, session_cookie.value)
    assert claims["sub"] == ADA and claims["azp"] == JUPYTER
    assert claims["o"]["id"] == ENGINES  # the first membership becomes active


async def test_sign_in_without_organizations_gives_a_personal_token(
    clerk_instance: DevInstance,
) -> None:
    _, jar = await sign_in(clerk_instance, LINUS)
    assert "o" not in claims_of(clerk_instance, jar["__session"])


async def test_sign_in_post_without_xsrf_token_is_refused(clerk_instance: DevInstance) -> None:
    response = await call(
        clerk_instance,
        "POST",
        "/sign-in",
        bearer=False,
        form={"user_id": ADA, "redirect_url": LAB},
    )
    assert_clerk_error(response, 403, "forbidden")
    assert "__session" not in set_cookies(response)


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "javascript:alert(1)",
        "http://127.0.0.1:8888@evil.example/",
        "http://127.0.0.2:8888/",
        "",
    ],
)
async def test_sign_in_refuses_foreign_redirects(clerk_instance: DevInstance, target: str) -> None:
    page = await call(clerk_instance, "GET", "/sign-in?redirect_url=" + quote(target), bearer=False)
    assert page.code == 400
    response, _ = await sign_in(clerk_instance, ADA, redirect_url=target, page_url=LAB)
    assert_clerk_error(response, 400, "form_param_value_invalid")
    assert "__session" not in set_cookies(response)


async def test_sign_in_of_unknown_user_is_refused(clerk_instance: DevInstance) -> None:
    response, _ = await sign_in(clerk_instance, "user_nobody")
    assert_clerk_error(response, 404, "resource_not_found")


async def test_second_sign_in_adds_a_session_to_the_same_client(
    clerk_instance: DevInstance,
) -> None:
    _, jar = await sign_in(clerk_instance, ADA)
    _, jar = await sign_in(clerk_instance, GRACE, jar)
    client = clerk_instance.store.client(jar["__clerk_dev_client"])
    sessions = clerk_instance.store.sessions_of(client)
    assert [s.user_id for s in sessions] == [ADA, GRACE]
    assert client.last_active_session_id == sessions[1].id
    assert claims_of(clerk_instance, jar["__session"])["sub"] == GRACE


async def test_handshake_refreshes_the_session_cookie(clerk_instance: DevInstance) -> None:
    _, jar = await sign_in(clerk_instance, ADA)
    response = await call(
        clerk_instance,
        "GET",
        "/v1/client/handshake?redirect_url=" + quote(LAB),
        bearer=False,
        headers={"Cookie": cookie_header({"__clerk_dev_client": jar["__clerk_dev_client"]})},
    )
    assert response.code == 302 and response.headers["Location"] == LAB
    fresh = set_cookies(response)
    claims = claims_of(clerk_instance, fresh["__session"].value)
    assert claims["sub"] == ADA and claims["o"]["id"] == ENGINES
    assert fresh["__client_uat"].value.isdigit()


async def test_handshake_without_a_live_session_goes_to_sign_in(
    clerk_instance: DevInstance,
) -> None:
    _, jar = await sign_in(clerk_instance, ADA)
    clerk_instance.revoke_session(
        clerk_instance.store.client(jar["__clerk_dev_client"]).session_ids[0]
    )
    for cookie in ({"__clerk_dev_client": jar["__clerk_dev_client"]}, {}):
        response = await call(
            clerk_instance,
            "GET",
            "/v1/client/handshake?redirect_url=" + quote(LAB),
            bearer=False,
            headers={"Cookie": cookie_header(cookie)} if cookie else None,
        )
        assert response.code == 302
        location = urlsplit(response.headers["Location"])
        assert location.path == "/sign-in"
        assert parse_qs(location.query)["redirect_url"] == [LAB]
        assert "__session" not in set_cookies(response)


async def test_handshake_refuses_foreign_redirects(clerk_instance: DevInstance) -> None:
    response = await call(
        clerk_instance,
        "GET",
        "/v1/client/handshake?redirect_url=" + quote("//evil.example/"),
        bearer=False,
    )
    assert_clerk_error(response, 400, "form_param_value_invalid")


async def test_sign_out_ends_sessions_and_clears_cookies(clerk_instance: DevInstance) -> None:
    _, jar = await sign_in(clerk_instance, ADA)
    client_id = jar["__clerk_dev_client"]
    response = await call(
        clerk_instance,
        "GET",
        "/sign-out?redirect_url=" + quote(JUPYTER + "/"),
        bearer=False,
        headers={"Cookie": cookie_header(jar)},
    )
    assert response.code == 302 and response.headers["Location"] == JUPYTER + "/"
    cleared = set_cookies(response)
    assert cleared["__session"].value == "" and cleared["__clerk_dev_client"].value == ""
    assert cleared["__client_uat"].value == "0"
    (session,) = clerk_instance.store.sessions_of(clerk_instance.store.client(client_id))
    assert session.status == "ended"


async def test_sign_out_refuses_foreign_redirects_before_signing_out(
    clerk_instance: DevInstance,
) -> None:
    _, jar = await sign_in(clerk_instance, ADA)
    response = await call(
        clerk_instance,
        "POST",
        "/sign-out?redirect_url=" + quote("https://evil.example/"),
        bearer=False,
        headers={"Cookie": cookie_header(jar)},
    )
    assert response.code == 400
    client = clerk_instance.store.client(jar["__clerk_dev_client"])
    assert clerk_instance.store.last_active_session(client) is not None


async def test_sign_out_without_redirect_shows_sign_in(clerk_instance: DevInstance) -> None:
    response = await call(clerk_instance, "POST", "/sign-out", bearer=False)
    assert response.code == 302 and response.headers["Location"] == "/sign-in"


async def fapi_token(
    instance: DevInstance,
    jar: dict[str, str],
    session_id: str,
    form: dict[str, str] | None = None,
    origin: str | None = JUPYTER,
) -> HTTPResponse:
    headers = {"Cookie": cookie_header({"__clerk_dev_client": jar["__clerk_dev_client"]})}
    if origin:
        headers["Origin"] = origin
    return await call(
        instance,
        "POST",
        f"/v1/client/sessions/{session_id}/tokens",
        bearer=False,
        form=form or {},
        headers=headers,
    )


async def test_frontend_token_for_another_membership(clerk_instance: DevInstance) -> None:
    _, jar = await sign_in(clerk_instance, ADA)
    session_id = claims_of(clerk_instance, jar["__session"])["sid"]
    response = await fapi_token(clerk_instance, jar, session_id, {"organization_id": PARTNERS})
    assert response.code == 200
    assert response.headers["Access-Control-Allow-Origin"] == JUPYTER
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    token = body(response)
    assert token["object"] == "token"
    claims = claims_of(clerk_instance, token["jwt"])
    assert claims["o"]["id"] == PARTNERS and claims["o"]["rol"] == "member"
    assert claims["azp"] == JUPYTER


async def test_frontend_token_defaults_to_active_org_and_empty_means_personal(
    clerk_instance: DevInstance,
) -> None:
    _, jar = await sign_in(clerk_instance, ADA)
    session_id = claims_of(clerk_instance, jar["__session"])["sid"]
    active = body(await fapi_token(clerk_instance, jar, session_id))
    personal = body(await fapi_token(clerk_instance, jar, session_id, {"organization_id": ""}))
    assert claims_of(clerk_instance, active["jwt"])["o"]["id"] == ENGINES
    assert "o" not in claims_of(clerk_instance, personal["jwt"])


async def test_frontend_token_refuses_an_org_the_user_is_not_in(
    clerk_instance: DevInstance,
) -> None:
    _, jar = await sign_in(clerk_instance, GRACE)
    session_id = claims_of(clerk_instance, jar["__session"])["sid"]
    refused = await fapi_token(clerk_instance, jar, session_id, {"organization_id": ENGINES})
    assert_clerk_error(refused, 403, "not_a_member_in_organization")
    assert refused.headers["Access-Control-Allow-Origin"] == JUPYTER  # readable by the app
    unknown = await fapi_token(clerk_instance, jar, session_id, {"organization_id": "org_nope"})
    assert_clerk_error(unknown, 404, "resource_not_found")


async def test_frontend_token_needs_the_client_cookie_of_that_session(
    clerk_instance: DevInstance,
) -> None:
    _, ada_jar = await sign_in(clerk_instance, ADA)
    _, grace_jar = await sign_in(clerk_instance, GRACE)
    ada_session = claims_of(clerk_instance, ada_jar["__session"])["sid"]
    stolen = await fapi_token(clerk_instance, grace_jar, ada_session)
    assert_clerk_error(stolen, 404, "resource_not_found")
    no_cookie = await call(
        clerk_instance, "POST", f"/v1/client/sessions/{ada_session}/tokens", bearer=False
    )
    assert_clerk_error(no_cookie, 401, "signed_out")


async def test_frontend_token_refuses_foreign_origins(clerk_instance: DevInstance) -> None:
    _, jar = await sign_in(clerk_instance, ADA)
    session_id = claims_of(clerk_instance, jar["__session"])["sid"]
    response = await fapi_token(clerk_instance, jar, session_id, origin="https://evil.example")
    assert_clerk_error(response, 403, "origin_invalid")
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_frontend_token_refused_after_sign_out(clerk_instance: DevInstance) -> None:
    _, jar = await sign_in(clerk_instance, ADA)
    session_id = claims_of(clerk_instance, jar["__session"])["sid"]
    clerk_instance.end_session(session_id)
    response = await fapi_token(clerk_instance, jar, session_id)
    assert_clerk_error(response, 401, "session_not_active")


async def test_frontend_token_preflight_allows_the_app_origin_with_credentials(
    clerk_instance: DevInstance,
) -> None:
    response = await call(
        clerk_instance,
        "OPTIONS",
        "/v1/client/sessions/sess_x/tokens",
        bearer=False,
        headers={"Origin": JUPYTER, "Access-Control-Request-Method": "POST"},
    )
    assert response.code == 204
    assert response.headers["Access-Control-Allow-Origin"] == JUPYTER
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
