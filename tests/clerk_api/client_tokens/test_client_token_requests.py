"""Client tokens over real HTTP and WebSockets, resolved through the local instance."""

from __future__ import annotations

import asyncio
import json
import secrets

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from jupyter_clerk.devinstance.signing import SigningKey
from tests.devinstance.helpers import ADA, ENGINES, GRACE, PARTNERS
from tests.identity.test_websockets import run_cell, ws_base

VERIFY = "clients/verify"


@pytest.fixture
def clerk_config(clerk_config):
    # Room for the tests that send several unknown tokens; one test tightens it further.
    return {**clerk_config, "client_token_verify_burst": 50.0}


async def identity(fetch, token: str) -> dict | None:
    response = await fetch("api/me", token=token)
    return json.loads(response.body)["identity"] if response.code == 200 else None


async def test_client_token_user_looks_like_the_session_token_user(clerk_instance, fetch):
    session = clerk_instance.create_session(ADA, ENGINES)
    by_client = await identity(fetch, clerk_instance.client_token(session.client_id))
    by_session = await identity(fetch, clerk_instance.session_token(session.id))
    assert by_client is not None
    assert by_client == by_session
    assert by_client["username"] == ADA
    assert by_client["organization"]["role"] == "org:admin"
    assert "org:jupyter:execute" in by_client["organization"]["permissions"]


async def test_multi_session_client_is_attributed_to_the_last_active_session_not_the_first(
    clerk_instance, fetch
):
    first = clerk_instance.create_session(GRACE, PARTNERS)
    last = clerk_instance.create_session(ADA, ENGINES, client_id=first.client_id)
    client = clerk_instance.store.client(first.client_id)
    assert client.session_ids[0] == first.id and client.last_active_session_id == last.id
    seen = await identity(fetch, clerk_instance.client_token(first.client_id))
    assert seen["username"] == ADA
    assert seen["organization"]["id"] == ENGINES


async def test_switching_the_active_session_switches_the_user_once_the_cache_expires(
    clerk_instance, fetch
):
    ada = clerk_instance.create_session(ADA)
    clerk_instance.create_session(GRACE, client_id=ada.client_id)
    clerk_instance.activate_session(ada.id)
    assert (await identity(fetch, clerk_instance.client_token(ada.client_id)))["username"] == ADA


async def test_pending_last_active_session_is_refused_without_falling_back(clerk_instance, fetch):
    grace = clerk_instance.create_session(GRACE)
    clerk_instance.create_session(ADA, status="pending", client_id=grace.client_id)
    response = await fetch("api/me", token=clerk_instance.client_token(grace.client_id))
    assert response.code == 401


@pytest.mark.parametrize(
    "status", ["ended", "revoked", "expired", "removed", "abandoned", "replaced"]
)
async def test_client_with_no_active_session_is_refused(clerk_instance, fetch, status):
    session = clerk_instance.create_session(ADA, status=status)
    response = await fetch("api/me", token=clerk_instance.client_token(session.client_id))
    assert response.code == 401


async def test_concurrent_first_requests_make_one_clients_verify_call(clerk_instance, fetch):
    session = clerk_instance.create_session(ADA, ENGINES)
    token = clerk_instance.client_token(session.client_id)
    responses = await asyncio.gather(*(fetch("api/me", token=token) for _ in range(20)))
    assert {r.code for r in responses} == {200}
    assert clerk_instance.faults.calls_to(VERIFY) == 1


async def test_refused_client_token_is_remembered_briefly(clerk_instance, fetch):
    session = clerk_instance.create_session(ADA)
    token = clerk_instance.client_token(session.client_id)
    clerk_instance.rotate_client_token(session.client_id)
    assert (await fetch("api/me", token=token)).code == 401
    assert (await fetch("api/me", token=token)).code == 401
    assert clerk_instance.faults.calls_to(VERIFY) == 1


async def test_session_tokens_never_go_to_clients_verify(clerk_instance, fetch):
    session = clerk_instance.create_session(ADA)
    assert (await fetch("api/me", token=clerk_instance.session_token(session.id))).code == 200
    assert clerk_instance.faults.calls_to(VERIFY) == 0


async def test_sid_less_jwt_signed_by_the_instance_is_not_a_session(clerk_instance, fetch):
    session = clerk_instance.create_session(ADA)
    template_token = clerk_instance.session_token(session.id, drop_claims=["sid"])
    assert (await fetch("api/me", token=template_token)).code == 401


async def test_client_token_in_a_websocket_url_is_refused(clerk_instance, server_url, fetch):
    session = clerk_instance.create_session(ADA, ENGINES)
    kernel = await fetch(
        "api/kernels", method="POST", body={}, token=clerk_instance.session_token(session.id)
    )
    kid = json.loads(kernel.body)["id"]
    token = clerk_instance.client_token(session.client_id)
    with pytest.raises(InvalidStatus) as info:
        async with connect(f"{ws_base(server_url)}api/kernels/{kid}/channels?token={token}"):
            pass
    assert info.value.response.status_code == 401
    assert clerk_instance.faults.calls_to(VERIFY) == 0


async def test_client_token_in_the_header_runs_a_kernel_over_websocket(
    clerk_instance, server_url, fetch
):
    session = clerk_instance.create_session(ADA, ENGINES)
    token = clerk_instance.client_token(session.client_id)
    kernel = await fetch("api/kernels", method="POST", body={}, token=token)
    assert kernel.code == 201
    url = f"{ws_base(server_url)}api/kernels/{json.loads(kernel.body)['id']}/channels"
    async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        assert await run_cell(ws, "6*7") == "42"


async def test_backend_outage_is_503_with_retry_after_not_401(clerk_instance, fetch):
    session = clerk_instance.create_session(ADA)
    clerk_instance.faults.fail(503, times=10, path=VERIFY)
    response = await fetch("api/me", token=clerk_instance.client_token(session.client_id))
    assert response.code == 503
    assert int(response.headers["Retry-After"]) >= 1


@pytest.mark.parametrize("fault", ["down", "slow", "rate_limited"])
async def test_session_tokens_keep_working_while_the_backend_api_is_unwell(
    clerk_instance, fetch, fault
):
    session = clerk_instance.create_session(ADA)
    assert (await fetch("api/me", token=clerk_instance.session_token(session.id))).code == 200
    if fault == "down":
        clerk_instance.faults.fail(503, times=100)
    elif fault == "slow":
        clerk_instance.faults.delay(30, times=100)
    else:
        clerk_instance.faults.rate_limit(retry_after=3600, times=100)
    fresh = clerk_instance.session_token(session.id, lifetime=30)  # not in any cache yet
    assert (await fetch("api/me", token=fresh)).code == 200


class TestUnknownTokenFlood:
    @pytest.fixture
    def clerk_config(self, clerk_config):
        return {**clerk_config, "client_token_verify_rate": 0.01, "client_token_verify_burst": 3.0}

    async def test_random_client_tokens_cannot_amplify_into_backend_calls(
        self, clerk_instance, fetch
    ):
        forger = SigningKey.generate()
        tokens = [
            forger.sign({"alg": "RS256", "kid": forger.kid}, {"id": f"client_{i}", "r": i})
            for i in range(12)
        ]
        responses = [await fetch("api/me", token=t) for t in tokens]
        assert clerk_instance.faults.calls_to(VERIFY) == 3
        assert [r.code for r in responses[:3]] == [401] * 3
        assert {r.code for r in responses[3:]} == {503}
        assert all(int(r.headers["Retry-After"]) >= 1 for r in responses[3:])
        assert not any(t.encode() in r.body for t, r in zip(tokens, responses, strict=True))


class TestShortCache:
    @pytest.fixture
    def clerk_config(self, clerk_config):
        return {**clerk_config, "client_token_cache_seconds": 0.2}

    async def test_revoked_session_stops_working_within_the_cache_lifetime(
        self, clerk_instance, fetch
    ):
        session = clerk_instance.create_session(ADA, ENGINES)
        token = clerk_instance.client_token(session.client_id)
        assert (await fetch("api/me", token=token)).code == 200
        clerk_instance.revoke_session(session.id)
        await asyncio.sleep(0.3)  # just past the configured lifetime, not a timing assertion
        assert (await fetch("api/me", token=token)).code == 401


def test_cache_lifetime_above_sixty_seconds_is_refused(clerk_instance, jp_configurable_serverapp):
    from jupyter_clerk.errors import ClerkConfigError
    from jupyter_clerk.identity.provider import ClerkIdentityProvider

    with pytest.raises(ClerkConfigError):
        ClerkIdentityProvider(
            publishable_key=clerk_instance.publishable_key,
            secret_key=clerk_instance.secret_key,
            api_url=clerk_instance.api_url,
            allow_local_instance=True,
            skip_authorized_parties_check=True,
            client_token_cache_seconds=61,
        )


def test_random_bytes_are_not_client_tokens():
    from jupyter_clerk.clerk_api.client_tokens import is_client_token

    assert not is_client_token(secrets.token_urlsafe(64))
    assert not is_client_token("a.b.c")
