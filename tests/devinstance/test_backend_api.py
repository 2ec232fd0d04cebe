"""Backend API and JWKS over real HTTP: Clerk's paths, bodies, auth and error shapes."""

import base64
import logging

import jwt
import pytest
from tornado.httpclient import AsyncHTTPClient

from jupyter_clerk.devinstance import DevInstance
from jupyter_clerk.devinstance.client_tokens import mint_client_token

from .helpers import ADA, ENGINES, GRACE, LINUS, PARTNERS, assert_clerk_error, body, call


async def test_public_jwks_needs_no_credential_and_has_clerks_shape(
    clerk_instance: DevInstance,
) -> None:
    response = await call(clerk_instance, "GET", "/.well-known/jwks.json", bearer=False)
    assert response.code == 200
    (key,) = body(response)["keys"]
    assert set(key) == {"use", "kty", "kid", "alg", "n", "e"}
    assert (key["use"], key["kty"], key["alg"], key["e"]) == ("sig", "RSA", "RS256", "AQAB")
    assert key["kid"].startswith("ins_")
    modulus = base64.urlsafe_b64decode(key["n"] + "=" * (-len(key["n"]) % 4))
    assert len(modulus) * 8 == 2048


async def test_backend_jwks_requires_the_secret_key(clerk_instance: DevInstance) -> None:
    ok = await call(clerk_instance, "GET", "/v1/jwks")
    assert ok.code == 200
    assert body(ok) == clerk_instance.keyring.jwks()
    assert_clerk_error(
        await call(clerk_instance, "GET", "/v1/jwks", bearer=False), 401, "authentication_invalid"
    )
    assert_clerk_error(
        await call(clerk_instance, "GET", "/v1/jwks", bearer="sk_test_wrong"),
        401,
        "authentication_invalid",
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/v1/users/{ADA}"),
        ("GET", f"/v1/users/{ADA}/organization_memberships"),
        ("POST", "/v1/sessions"),
        ("GET", "/v1/sessions/sess_x"),
        ("POST", "/v1/sessions/sess_x/revoke"),
        ("POST", "/v1/sessions/sess_x/tokens"),
        ("GET", "/v1/clients/client_x"),
        ("POST", "/dev/rotate-keys"),
    ],
)
async def test_backend_api_refuses_requests_without_the_secret_key(
    clerk_instance: DevInstance, method: str, path: str
) -> None:
    response = await call(clerk_instance, method, path, bearer=False)
    assert_clerk_error(response, 401, "authentication_invalid")


async def test_get_user_returns_clerks_user_object(clerk_instance: DevInstance) -> None:
    user = body(await call(clerk_instance, "GET", f"/v1/users/{ADA}"))
    assert user["object"] == "user" and user["id"] == ADA
    assert (user["first_name"], user["last_name"]) == ("Ada", "Lovelace")
    (email,) = user["email_addresses"]
    assert email["id"] == user["primary_email_address_id"]
    assert email["email_address"] == "ada@example.com"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/users/user_nobody",
        "/v1/users/user_nobody/organization_memberships",
        "/v1/sessions/sess_nothing",
        "/v1/sessions/not-an-id",
        "/v1/clients/client_nothing",
        "/v1/nothing/here",
    ],
)
async def test_unknown_ids_answer_clerks_404(clerk_instance: DevInstance, path: str) -> None:
    assert_clerk_error(await call(clerk_instance, "GET", path), 404, "resource_not_found")


async def test_memberships_have_clerks_shape(clerk_instance: DevInstance) -> None:
    response = await call(clerk_instance, "GET", f"/v1/users/{ADA}/organization_memberships")
    page = body(response)
    assert page["total_count"] == 2
    first = page["data"][0]
    assert first["object"] == "organization_membership"
    assert first["id"].startswith("orgmem_")
    assert (first["role"], first["role_name"]) == ("org:admin", "Admin")
    assert "org:jupyter:execute" in first["permissions"]
    organization = first["organization"]
    assert organization["object"] == "organization"
    assert (organization["id"], organization["name"]) == (ENGINES, "Analytical Engines")
    assert organization["slug"] == "analytical-engines"
    assert "image_url" in organization
    assert first["public_user_data"]["user_id"] == ADA
    assert first["public_user_data"]["identifier"] == "ada@example.com"
    assert {"first_name", "last_name", "image_url"} <= set(first["public_user_data"])
    assert first["created_at"] > 10**12  # milliseconds


async def test_memberships_paginate_with_limit_and_offset(clerk_instance: DevInstance) -> None:
    path = f"/v1/users/{ADA}/organization_memberships"
    first = body(await call(clerk_instance, "GET", path + "?limit=1"))
    second = body(await call(clerk_instance, "GET", path + "?limit=1&offset=1"))
    beyond = body(await call(clerk_instance, "GET", path + "?limit=1&offset=2"))
    assert [m["organization"]["id"] for m in first["data"]] == [ENGINES]
    assert [m["organization"]["id"] for m in second["data"]] == [PARTNERS]
    assert beyond["data"] == []
    assert first["total_count"] == second["total_count"] == beyond["total_count"] == 2


async def test_user_without_organizations_has_no_memberships(clerk_instance: DevInstance) -> None:
    page = body(await call(clerk_instance, "GET", f"/v1/users/{LINUS}/organization_memberships"))
    assert page == {"data": [], "total_count": 0}


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=501",
        "limit=x",
        "offset=-1",
        "limit=1e3",
        "limit=%C2%B2",
        "offset=" + "9" * 5000,
    ],
)
async def test_bad_pagination_is_a_clear_4xx(clerk_instance: DevInstance, query: str) -> None:
    path = f"/v1/users/{ADA}/organization_memberships?{query}"
    assert_clerk_error(await call(clerk_instance, "GET", path), 422, "form_param_value_invalid")


async def test_create_get_and_revoke_a_session(clerk_instance: DevInstance) -> None:
    created = body(await call(clerk_instance, "POST", "/v1/sessions", json_body={"user_id": GRACE}))
    assert created["object"] == "session" and created["id"].startswith("sess_")
    assert created["client_id"].startswith("client_")
    assert (created["user_id"], created["status"]) == (GRACE, "active")
    assert created["last_active_organization_id"] is None
    for field in ("last_active_at", "expire_at", "abandon_at", "created_at", "updated_at"):
        assert created[field] > 10**12
    fetched = body(await call(clerk_instance, "GET", f"/v1/sessions/{created['id']}"))
    assert fetched == created
    revoked = body(await call(clerk_instance, "POST", f"/v1/sessions/{created['id']}/revoke"))
    assert revoked["status"] == "revoked"


@pytest.mark.parametrize(
    ("json_body", "status", "code"),
    [
        ({}, 422, "form_param_missing"),
        ({"user_id": 5}, 422, "form_param_value_invalid"),
        ({"user_id": "user_nobody"}, 404, "resource_not_found"),
        (["user_id"], 400, "malformed_request"),
        ([[[[]]]] * 2, 400, "malformed_request"),
    ],
)
async def test_create_session_refuses_bad_input(
    clerk_instance: DevInstance, json_body: object, status: int, code: str
) -> None:
    response = await call(clerk_instance, "POST", "/v1/sessions", json_body=json_body)
    assert_clerk_error(response, status, code)


async def test_malformed_json_is_a_clear_400(clerk_instance: DevInstance) -> None:
    response = await call(
        clerk_instance,
        "POST",
        "/v1/sessions",
        headers={"Content-Type": "application/json"},
        form={"not": "json"},
    )
    assert_clerk_error(response, 400, "malformed_request")


async def test_session_tokens_endpoint_mints_for_the_active_org(
    clerk_instance: DevInstance,
) -> None:
    session = clerk_instance.create_session(ADA, PARTNERS)
    response = await call(
        clerk_instance,
        "POST",
        f"/v1/sessions/{session.id}/tokens",
        json_body={"expires_in_seconds": 120},
    )
    token = body(response)
    assert token["object"] == "token"
    claims = jwt.decode(
        token["jwt"],
        key=clerk_instance.public_key_pem,
        algorithms=["RS256"],
        issuer=clerk_instance.issuer,
    )
    assert claims["sid"] == session.id and claims["o"]["id"] == PARTNERS
    assert claims["exp"] - claims["iat"] == 120


async def test_session_tokens_default_lifetime_without_body(clerk_instance: DevInstance) -> None:
    session = clerk_instance.create_session(ADA)
    response = await call(clerk_instance, "POST", f"/v1/sessions/{session.id}/tokens")
    claims = jwt.decode(body(response)["jwt"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 60


@pytest.mark.parametrize("lifetime", [0, -5, "soon", True, 10**12])
async def test_session_tokens_refuse_bad_lifetimes(clerk_instance: DevInstance, lifetime) -> None:
    session = clerk_instance.create_session(ADA)
    response = await call(
        clerk_instance,
        "POST",
        f"/v1/sessions/{session.id}/tokens",
        json_body={"expires_in_seconds": lifetime},
    )
    assert_clerk_error(response, 422, "form_param_value_invalid")


async def test_no_token_for_a_revoked_session(clerk_instance: DevInstance) -> None:
    session = clerk_instance.create_session(ADA)
    clerk_instance.revoke_session(session.id)
    response = await call(clerk_instance, "POST", f"/v1/sessions/{session.id}/tokens")
    assert_clerk_error(response, 401, "session_not_active")


async def test_client_lookup_and_verify_return_clerks_client(clerk_instance: DevInstance) -> None:
    first = clerk_instance.create_session(ADA)
    second = clerk_instance.store.sign_in(GRACE, client_id=first.client_id)
    client = body(await call(clerk_instance, "GET", f"/v1/clients/{first.client_id}"))
    assert client["object"] == "client"
    assert client["session_ids"] == [first.id, second.id]
    assert client["last_active_session_id"] == second.id
    assert [s["user_id"] for s in client["sessions"]] == [ADA, GRACE]
    token = clerk_instance.client_token(first.client_id)
    verified = await call(clerk_instance, "POST", "/v1/clients/verify", json_body={"token": token})
    assert body(verified) == client
    bad = await call(clerk_instance, "POST", "/v1/clients/verify", json_body={"token": "nope"})
    assert_clerk_error(bad, 400, "client_token_invalid")


@pytest.mark.parametrize("forgery", ["bare_client_id", "rotated", "foreign_key"])
async def test_clients_verify_refuses_anything_but_a_current_client_token(
    clerk_instance: DevInstance, forgery: str
) -> None:
    session = clerk_instance.create_session(ADA)
    token = clerk_instance.client_token(session.client_id)
    if forgery == "bare_client_id":
        token = session.client_id
    elif forgery == "rotated":
        clerk_instance.rotate_client_token(session.client_id)
    else:
        other = DevInstance()
        client = clerk_instance.store.client(session.client_id)
        token = mint_client_token(other.keyring, client)
    response = await call(clerk_instance, "POST", "/v1/clients/verify", json_body={"token": token})
    assert_clerk_error(response, 400, "client_token_invalid")


async def test_rotate_keys_over_http_publishes_both_keys_until_retired(
    clerk_instance: DevInstance,
) -> None:
    old_kid = clerk_instance.keyring.current.kid
    rotated = body(await call(clerk_instance, "POST", "/dev/rotate-keys"))
    assert rotated["kid"] != old_kid
    published = body(await call(clerk_instance, "GET", "/.well-known/jwks.json", bearer=False))
    assert [k["kid"] for k in published["keys"]] == [rotated["kid"], old_kid]
    retired = body(await call(clerk_instance, "POST", "/dev/retire-keys"))
    assert [k["kid"] for k in retired["keys"]] == [rotated["kid"]]


async def test_wrong_method_is_a_clerk_shaped_405(clerk_instance: DevInstance) -> None:
    assert_clerk_error(await call(clerk_instance, "DELETE", "/v1/jwks"), 405, "method_not_allowed")


async def test_deeply_nested_json_is_a_clear_400(clerk_instance: DevInstance) -> None:
    nested = await AsyncHTTPClient().fetch(
        clerk_instance.url + "/v1/sessions",
        method="POST",
        body="[" * 100_000,
        headers={
            "Authorization": f"Bearer {clerk_instance.secret_key}",
            "Content-Type": "application/json",
        },
        raise_error=False,
    )
    assert_clerk_error(nested, 400, "malformed_request")


async def test_neither_tokens_nor_the_secret_key_reach_the_logs(
    clerk_instance: DevInstance, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    session = clerk_instance.create_session(ADA, ENGINES)
    minted = body(await call(clerk_instance, "POST", f"/v1/sessions/{session.id}/tokens"))["jwt"]
    await call(clerk_instance, "GET", "/v1/jwks", bearer="sk_test_wrong")
    await call(clerk_instance, "GET", "/v1/users/user_nobody")
    assert caplog.records
    assert clerk_instance.secret_key not in caplog.text
    assert minted not in caplog.text and "sk_test_wrong" not in caplog.text
