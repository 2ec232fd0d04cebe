"""The identity provider over real HTTP: which credential counts, and what a refusal says."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest

from tests.forge import PARTY
from tests.sign_in import sign_in_link


async def test_bearer_token_opens_the_contents_api(fetch, token_for):
    response = await fetch("api/contents", token=token_for())
    assert response.code == 200


async def test_missing_credential_gets_401_json_that_leaks_nothing(fetch):
    response = await fetch("api/contents")
    assert response.code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = json.loads(response.body)
    assert body["message"].startswith("Sign-in required")
    assert "Traceback" not in response.body.decode()


async def test_invalid_bearer_token_gets_401_without_echoing_it(fetch, token_for):
    bad = token_for(iss="https://clerk.evil.example")
    response = await fetch("api/contents", token=bad)
    assert response.code == 401
    assert bad not in response.body.decode()
    assert "issuer" not in response.body.decode().lower()


async def test_jupyter_token_scheme_is_not_a_clerk_token(fetch, token_for):
    response = await fetch("api/contents", headers={"Authorization": f"token {token_for()}"})
    assert response.code == 401


async def test_query_token_is_ignored_on_plain_http(fetch, token_for):
    response = await fetch(f"api/contents?token={token_for()}")
    assert response.code == 401


async def test_session_cookie_authenticates_a_read(fetch, token_for):
    response = await fetch("api/contents", cookie=token_for())
    assert response.code == 200


async def test_cookie_authenticated_write_without_xsrf_is_refused(fetch, token_for):
    response = await fetch(
        "api/contents", method="POST", cookie=token_for(), body={"type": "notebook"}
    )
    assert response.code == 403


async def test_bearer_authenticated_write_needs_no_xsrf(fetch, token_for):
    response = await fetch(
        "api/contents", method="POST", token=token_for(), body={"type": "notebook"}
    )
    assert response.code == 201


async def test_header_wins_over_a_cookie_of_another_user(fetch, token_for):
    response = await fetch(
        "api/me", token=token_for("user_2aHeader"), cookie=token_for("user_2aCookie")
    )
    assert json.loads(response.body)["identity"]["username"] == "user_2aHeader"
    assert "Set-Cookie" not in response.headers


async def test_invalid_header_does_not_fall_back_to_a_valid_cookie(fetch, token_for):
    response = await fetch(
        "api/me", token=token_for(iss="https://clerk.evil.example"), cookie=token_for()
    )
    assert response.code == 401


async def test_me_reports_the_clerk_identity_and_organization(fetch, token_for):
    token = token_for(
        "user_2aAda",
        name="Ada Lovelace",
        image_url="https://img.clerk.com/ada.png",
        fea="o:jupyter",
        o={
            "id": "org_2aEngines",
            "rol": "admin",
            "slg": "engines",
            "per": "read,write",
            "fpm": "3",
        },
    )
    identity = json.loads((await fetch("api/me", token=token)).body)["identity"]
    assert identity["username"] == "user_2aAda"
    assert identity["name"] == "Ada Lovelace"
    assert identity["initials"] == "AL"
    assert identity["avatar_url"] == "https://img.clerk.com/ada.png"
    assert identity["organization"] == {
        "id": "org_2aEngines",
        "slug": "engines",
        "role": "org:admin",
        "permissions": ["org:jupyter:read", "org:jupyter:write"],
    }


async def test_page_config_carries_no_token(fetch, token_for, jp_serverapp):
    assert jp_serverapp.identity_provider.token == ""


async def test_unauthenticated_page_load_redirects_to_login(fetch):
    response = await fetch("tree")
    assert response.code == 302
    assert "/login?next=" in response.headers["Location"]


@pytest.mark.parametrize(
    "next_url",
    ["//evil.example/x", "/\\evil.example", "https:evil.example", "https://evil.example/", "x"],
)
async def test_login_next_never_leaves_the_server(fetch, jp_serverapp, jp_base_url, next_url):
    jp_serverapp.identity_provider.sign_in_url = "https://accounts.example.com/sign-in"
    response = await fetch(f"login?next={next_url}")
    location = urlparse(sign_in_link(response))
    assert (location.netloc, location.path) == ("accounts.example.com", "/sign-in")
    back = urlparse(parse_qs(location.query)["redirect_url"][0])
    assert f"{back.scheme}://{back.netloc}" == PARTY
    assert back.path == jp_base_url


async def test_sign_in_returns_to_an_authorized_origin_whatever_the_host_header(
    fetch, jp_serverapp
):
    jp_serverapp.identity_provider.sign_in_url = "https://accounts.example.com/sign-in"
    response = await fetch("login?next=/lab", headers={"Host": "localhost:1"})
    back = parse_qs(urlparse(sign_in_link(response)).query)["redirect_url"][0]
    assert back == f"{PARTY}/lab"


async def test_login_sends_a_signed_out_person_to_sign_in_and_back(fetch, jp_serverapp):
    jp_serverapp.identity_provider.sign_in_url = "https://accounts.example.com/sign-in"
    response = await fetch("login?next=/lab/tree/x.ipynb")
    back = parse_qs(urlparse(sign_in_link(response)).query)["redirect_url"][0]
    assert back.endswith("/lab/tree/x.ipynb")


async def test_login_sends_a_signed_in_person_on(fetch, token_for):
    response = await fetch("login?next=/lab", cookie=token_for())
    assert (response.code, response.headers["Location"]) == (302, "/lab")


async def test_logout_clears_clerk_cookies(fetch, token_for):
    response = await fetch("logout", cookie=token_for())
    cookies = response.headers.get_list("Set-Cookie")
    assert any(c.startswith('__session="";') for c in cookies)
    assert any(c.startswith('__client_uat="";') for c in cookies)


async def test_tokens_never_reach_a_log_line(fetch, token_for, caplog):
    caplog.set_level("DEBUG")
    good, bad = token_for(), token_for(azp="https://evil.example")
    await fetch("api/contents", token=bad)
    await fetch(f"api/contents?token={good}&__clerk_db_jwt={good}")
    await fetch("api/contents", cookie=bad)
    await fetch("api/contents", token=good)
    assert caplog.records
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        assert good not in text and bad not in text
        assert "eyJ" not in text
    assert PARTY  # the refused token's reason is logged, not the token
    assert any("token-invalid-authorized-parties" in r.getMessage() for r in caplog.records)


async def test_query_token_needs_a_real_websocket_upgrade(fetch, token_for):
    response = await fetch(f"api/contents?token={token_for()}", headers={"Upgrade": "websocket"})
    assert response.code == 401
