"""Re-checking the sessions of open WebSockets: bounded concurrency, within a Backend API
budget, jittered, and an ended session is ended everywhere (sockets, cached tokens)."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from jupyter_clerk import ClerkIdentityProvider
from jupyter_clerk.cache import ExpiringLRU
from jupyter_clerk.clerk_api.models import Session
from jupyter_clerk.errors import ClerkConfigError
from jupyter_clerk.revocation.denylist import Revocation
from jupyter_clerk.revocation.open_sockets import OpenSockets, SessionRevalidator, SocketOwner
from tests.forge import PARTY
from tests.revocation.test_indexes import FakeSocket, claims


def session(session_id: str, status: str) -> Session:
    return Session(
        id=session_id,
        user_id="user_a",
        client_id="client_a",
        status=status,
        last_active_organization_id=None,
        last_active_at=0,
        expire_at=0,
    )


def open_sockets(count: int) -> tuple[OpenSockets, list[FakeSocket]]:
    sockets, held = OpenSockets(), []
    for n in range(count):
        held.append(FakeSocket())
        sockets.track(held[-1], SocketOwner(f"user_{n}", f"sess_{n}", None))
    return sockets, held


async def test_a_round_keeps_at_most_concurrency_calls_in_flight():
    sockets, _held = open_sockets(100)  # held: the index is weak
    in_flight, most = 0, 0

    async def get_session(session_id: str) -> Session:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.001)
        in_flight -= 1
        return session(session_id, "active")

    revalidator = SessionRevalidator(sockets, get_session, 300, calls_per_second=1e6, concurrency=4)
    assert await revalidator.check_now() == 0
    assert most == 4 and revalidator.calls == 100


async def test_a_round_stays_within_its_share_of_clerks_rate_limit():
    now = [0.0]
    called_at: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds
        await asyncio.sleep(0)

    async def get_session(session_id: str) -> Session:
        called_at.append(now[0])
        return session(session_id, "active")

    sockets, _held = open_sockets(30)
    revalidator = SessionRevalidator(
        sockets,
        get_session,
        300,
        calls_per_second=5,
        concurrency=8,
        clock=lambda: now[0],
        sleep=fake_sleep,
    )
    await revalidator.check_now()
    # A burst of 5, then one call every 0.2 s: never ahead of the budget.
    for n, at in enumerate(sorted(called_at)):
        assert at >= (n + 1 - 5) / 5 - 1e-9
    assert len(called_at) == 30


async def test_an_ended_session_closes_its_sockets_and_refuses_its_cached_tokens():
    sockets, held = open_sockets(3)
    tokens: ExpiringLRU[str, object] = ExpiringLRU(10, time.monotonic)
    revocation = Revocation(tokens, None, None, sockets)  # type: ignore[arg-type]
    tokens.put("t", claims("sess_1", user="user_1"), time.monotonic() + 60)

    async def get_session(session_id: str) -> Session:
        return session(session_id, "revoked" if session_id == "sess_1" else "active")

    revalidator = SessionRevalidator(sockets, get_session, 300, on_ended=revocation.session_ended)
    assert await revalidator.check_now() == 1
    assert held[1].closed_with is not None and held[0].closed_with is None
    assert tokens.get("t") is None
    assert revocation.refuses("user_1", "sess_1", None, time.time())


def test_webhooks_make_polling_back_off():
    sockets, _ = open_sockets(1)
    revalidator = SessionRevalidator(sockets, None, 300)  # type: ignore[arg-type]
    revalidator.webhooks_configured(6)
    assert revalidator.interval == 1800


@pytest.fixture
def no_clerk_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith("CLERK_"):
            monkeypatch.delenv(name)


def provider(**settings) -> ClerkIdentityProvider:
    from tests.identity.test_configuration import PK

    return ClerkIdentityProvider(publishable_key=PK, authorized_parties=[PARTY], **settings)


@pytest.mark.usefixtures("no_clerk_environment")
@pytest.mark.parametrize(
    ("secret_key", "share", "per_second"),
    [("sk_live_x", 0.2, 20.0), ("sk_test_x", 0.2, 2.0), ("sk_live_x", 0.5, 50.0)],
)
def test_budget_is_a_share_of_the_instances_rate_limit(secret_key, share, per_second):
    ip = provider(secret_key=secret_key, backend_api_budget_share=share)
    assert ip._backend_api_calls_per_second() == per_second


@pytest.mark.usefixtures("no_clerk_environment")
@pytest.mark.parametrize("value", ["0", "1.5", "lots"])
def test_a_bad_budget_share_names_the_trait_and_the_variable(monkeypatch, value):
    monkeypatch.setenv("CLERK_BACKEND_API_BUDGET_SHARE", value)
    with pytest.raises(ClerkConfigError) as info:
        provider(secret_key="sk_live_x")
    assert "backend_api_budget_share" in str(info.value)
    assert "CLERK_BACKEND_API_BUDGET_SHARE" in str(info.value)


async def test_with_webhooks_the_server_polls_clerk_less(jp_serverapp):
    """The revocation tests' server has a webhook signing secret (tests/revocation/conftest)."""
    provider = jp_serverapp.identity_provider
    assert provider.revalidator.interval == 300 * 6
    assert provider.memberships._ttl == 60 * 6


@pytest.mark.usefixtures("no_clerk_environment")
def test_token_cache_size_follows_the_environment(monkeypatch):
    monkeypatch.setenv("CLERK_TOKEN_CACHE_SIZE", "123456")
    assert provider().verifier.cache._max_entries == 123456
    monkeypatch.setenv("CLERK_TOKEN_CACHE_SIZE", "lots")
    with pytest.raises(ClerkConfigError) as info:
        provider()
    assert "token_cache_size" in str(info.value) and "CLERK_TOKEN_CACHE_SIZE" in str(info.value)
