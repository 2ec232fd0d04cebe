"""The Backend API client against the local instance: shapes, retries, rate limits, secrecy."""

from __future__ import annotations

import logging
import socket

import jwt
import pytest

from jupyter_clerk.clerk_api.client import (
    CLERK_API_VERSION,
    MAX_RETRY_AFTER,
    BackendAPI,
    BackendAPIError,
    BackendUnavailable,
    NotFound,
    RateLimited,
    Unauthorized,
    parse_retry_after,
)
from jupyter_clerk.devinstance import DevInstance
from tests.devinstance.helpers import ADA, ENGINES, PARTNERS


def client_for(instance: DevInstance, **kwargs) -> BackendAPI:
    options = {"timeout": 0.5, "max_retries": 2, "backoff": 0.01, **kwargs}
    return BackendAPI(instance.api_url, instance.secret_key, **options)


async def test_get_user_returns_a_typed_user(clerk_instance):
    user = await client_for(clerk_instance).get_user(ADA)
    assert (user.id, user.first_name, user.username) == (ADA, "Ada", "ada")


async def test_every_call_sends_clerks_api_version(clerk_instance):
    await client_for(clerk_instance).get_user(ADA)
    assert [c.api_version for c in clerk_instance.faults.calls] == [CLERK_API_VERSION]


async def test_memberships_are_read_across_every_page(clerk_instance):
    memberships = await client_for(clerk_instance, page_size=1).user_memberships(ADA)
    assert {(m.organization_id, m.role) for m in memberships} == {
        (ENGINES, "org:admin"),
        (PARTNERS, "org:member"),
    }
    engines = next(m for m in memberships if m.organization_id == ENGINES)
    assert engines.organization_slug == "analytical-engines"
    assert engines.organization_name == "Analytical Engines"
    assert "org:jupyter:execute" in engines.permissions
    assert clerk_instance.faults.calls_to("organization_memberships") == 2


async def test_get_session_and_verify_client_return_typed_sessions(clerk_instance):
    session = clerk_instance.create_session(ADA, ENGINES)
    api = client_for(clerk_instance)
    fetched = await api.get_session(session.id)
    assert (fetched.user_id, fetched.status) == (ADA, "active")
    assert fetched.last_active_organization_id == ENGINES
    client = await api.verify_client(clerk_instance.client_token(session.client_id))
    assert client.id == session.client_id
    assert client.last_active_session_id == session.id
    assert [s.id for s in client.sessions] == [session.id]


async def test_create_session_token_mints_a_token_for_the_session(clerk_instance):
    session = clerk_instance.create_session(ADA)
    token = await client_for(clerk_instance).create_session_token(session.id)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["sub"], claims["sid"]) == (ADA, session.id)


async def test_5xx_is_retried_until_an_answer(clerk_instance):
    clerk_instance.faults.fail(503, times=2)
    assert (await client_for(clerk_instance, max_retries=2).get_user(ADA)).id == ADA
    assert len(clerk_instance.faults.calls) == 3


async def test_5xx_after_the_last_retry_is_backend_unavailable(clerk_instance):
    clerk_instance.faults.fail(502, times=3)
    with pytest.raises(BackendUnavailable) as info:
        await client_for(clerk_instance, max_retries=2).get_user(ADA)
    assert info.value.status == 502
    assert len(clerk_instance.faults.calls) == 3


async def test_a_slow_answer_times_out_and_is_retried(clerk_instance):
    clerk_instance.faults.delay(2.0)
    assert (await client_for(clerk_instance, timeout=0.2, max_retries=1).get_user(ADA)).id == ADA


async def test_a_slow_answer_without_retries_is_backend_unavailable(clerk_instance):
    clerk_instance.faults.delay(2.0)
    with pytest.raises(BackendUnavailable) as info:
        await client_for(clerk_instance, timeout=0.2, max_retries=0).get_user(ADA)
    assert info.value.status is None


async def test_no_listener_is_backend_unavailable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api = BackendAPI(f"http://127.0.0.1:{port}", "sk_test_x", timeout=0.5, backoff=0.01)
    with pytest.raises(BackendUnavailable):
        await api.get_user(ADA)


async def test_429_with_a_short_retry_after_is_waited_out(clerk_instance):
    clerk_instance.faults.rate_limit(retry_after=0.05)
    assert (await client_for(clerk_instance).get_user(ADA)).id == ADA
    assert len(clerk_instance.faults.calls) == 2


async def test_429_with_a_long_retry_after_raises_rate_limited_at_once(clerk_instance):
    clerk_instance.faults.rate_limit(retry_after=30)
    with pytest.raises(RateLimited) as info:
        await client_for(clerk_instance, max_retry_after=2.0).get_user(ADA)
    assert info.value.retry_after == 30
    assert len(clerk_instance.faults.calls) == 1


async def test_a_retry_after_past_the_ceiling_is_cut_to_it(clerk_instance):
    clerk_instance.faults.rate_limit(retry_after=24 * 60 * 60)
    with pytest.raises(RateLimited) as info:
        await client_for(clerk_instance).get_user(ADA)
    assert info.value.retry_after == MAX_RETRY_AFTER


@pytest.mark.parametrize("retry_after", [-1.0, float("nan"), None])
def test_an_unusable_retry_after_leaves_the_callers_default_back_off(retry_after):
    assert RateLimited(retry_after).retry_after is None


async def test_429_without_retry_after_is_not_retried(clerk_instance):
    clerk_instance.faults.rate_limit(retry_after=None)
    with pytest.raises(RateLimited) as info:
        await client_for(clerk_instance).get_user(ADA)
    assert info.value.retry_after is None


async def test_429_retries_share_the_retry_budget(clerk_instance):
    clerk_instance.faults.rate_limit(retry_after=0.01, times=5)
    with pytest.raises(RateLimited):
        await client_for(clerk_instance, max_retries=2).get_user(ADA)
    assert len(clerk_instance.faults.calls) == 3


async def test_unknown_ids_are_not_found(clerk_instance):
    api = client_for(clerk_instance)
    with pytest.raises(NotFound) as info:
        await api.get_session("sess_doesNotExist")
    assert (info.value.status, info.value.code) == (404, "resource_not_found")


async def test_an_invalid_client_token_is_a_client_error_not_an_outage(clerk_instance):
    with pytest.raises(BackendAPIError) as info:
        await client_for(clerk_instance).verify_client("not-a-client-token")
    assert not isinstance(info.value, BackendUnavailable)
    assert 400 <= info.value.status < 500


@pytest.mark.parametrize(
    "bad_id", ["", "user_", "user_a/../../v1/jwks", "user_a?x=1", "sess_abc", "user_a b", None]
)
async def test_ids_are_validated_before_any_request(clerk_instance, bad_id):
    with pytest.raises(ValueError):
        await client_for(clerk_instance).get_user(bad_id)
    assert clerk_instance.faults.calls == []


async def test_wrong_secret_key_is_unauthorized_and_never_shown(clerk_instance, caplog):
    secret = "sk_test_" + "W" * 40
    api = BackendAPI(clerk_instance.api_url, secret, timeout=0.5)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(Unauthorized) as info:
        await api.get_user(ADA)
    assert secret not in str(info.value)
    assert secret not in repr(api)
    assert secret not in caplog.text


async def test_secret_key_never_appears_in_outage_errors_or_logs(clerk_instance, caplog):
    caplog.set_level(logging.DEBUG)
    clerk_instance.faults.fail(500, times=3)
    with pytest.raises(BackendUnavailable) as info:
        await client_for(clerk_instance).get_user(ADA)
    assert clerk_instance.secret_key not in str(info.value)
    assert clerk_instance.secret_key not in caplog.text


def test_plain_http_is_refused_off_loopback():
    with pytest.raises(ValueError):
        BackendAPI("http://api.clerk.example", "sk_test_x")


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        ("0.5", 0.5),
        ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
        ("soon", None),
        ("-1", None),
        ("", None),
    ],
)
def test_retry_after_is_read_as_seconds_or_a_date(header, seconds):
    now = 1445412480.0  # 2015-10-21T07:28:00Z
    assert parse_retry_after(header, now=now) == seconds
