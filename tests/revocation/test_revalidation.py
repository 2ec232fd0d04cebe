"""Re-checking the sessions of open WebSockets: bounded concurrency, within a Backend API
budget, jittered, and an ended session is ended everywhere (sockets, cached tokens)."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from jupyter_clerk import ClerkIdentityProvider
from jupyter_clerk.cache import ExpiringLRU
from jupyter_clerk.clerk_api.client import (
    BackendAPI,
    BackendUnavailable,
    RateLimited,
    spend_request_budget,
)
from jupyter_clerk.clerk_api.memberships import MembershipCache
from jupyter_clerk.clerk_api.models import Membership, Session
from jupyter_clerk.errors import ClerkConfigError
from jupyter_clerk.revocation.denylist import Revocation
from jupyter_clerk.revocation.open_sockets import (
    MembershipCheck,
    OpenSockets,
    SessionRevalidator,
    SocketOwner,
)
from jupyter_clerk.workspaces.authorizer import membership_actions
from tests.devinstance.helpers import ADA
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
        await spend_request_budget()  # one request to Clerk, as BackendAPI counts it
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.001)
        in_flight -= 1
        return session(session_id, "active")

    revalidator = SessionRevalidator(sockets, get_session, 300, calls_per_second=1e6, concurrency=4)
    assert await revalidator.check_now() == 0
    assert most == 4 and revalidator.calls == 100


class FakeClock:
    """Time that moves only when the revalidator sleeps; records when Clerk is called."""

    def __init__(self) -> None:
        self.now = 0.0
        self.called_at: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)

    async def get_session(self, session_id: str) -> Session:
        await spend_request_budget()
        self.called_at.append(self.now)
        return session(session_id, "active")

    def assert_within_budget(self, per_second: int) -> None:
        """A burst of `per_second`, then one call every 1/per_second s: never ahead."""
        for n, at in enumerate(sorted(self.called_at)):
            assert at >= (n + 1 - per_second) / per_second - 1e-9


async def test_a_round_stays_within_its_share_of_clerks_rate_limit():
    clock = FakeClock()
    sockets, _held = open_sockets(30)
    revalidator = SessionRevalidator(
        sockets,
        clock.get_session,
        300,
        calls_per_second=5,
        concurrency=8,
        clock=lambda: clock.now,
        sleep=clock.sleep,
    )
    await revalidator.check_now()
    clock.assert_within_budget(5)
    assert len(clock.called_at) == 30


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


# --- memberships of people holding organization sockets, without webhooks -----------------


def membership(user_id: str, org_id: str, role: str = "org:member", *permissions: str):
    return Membership(
        f"orgmem_{org_id}", user_id, org_id, None, "Org", role, frozenset(permissions)
    )


class Directory:
    """Clerk's memberships as the Backend API reports them, counting the lookups."""

    def __init__(self, *memberships: Membership) -> None:
        self.memberships = list(memberships)
        self.lookups: list[str] = []
        self.fail: Exception | None = None

    async def lookup(self, user_id: str) -> list[Membership]:
        await spend_request_budget()
        self.lookups.append(user_id)
        if self.fail is not None:
            raise self.fail
        return [m for m in self.memberships if m.user_id == user_id]


def revalidator_with(directory: Directory, sockets: OpenSockets, *, check: bool = True):
    """`check=False` is the protection switched off: sessions only, as before."""
    revocation = Revocation(ExpiringLRU(10, time.monotonic), None, None, sockets)
    cache = MembershipCache(directory.lookup, ttl=60)

    async def active(session_id: str) -> Session:
        await spend_request_budget()
        return session(session_id, "active")

    memberships = MembershipCheck(cache, membership_actions, revocation.membership_lost)
    revalidator = SessionRevalidator(
        sockets, active, 300, memberships=memberships if check else None, calls_per_second=1e6
    )
    return revalidator, cache, revocation


KERNEL = frozenset({"execute"})  # what a kernel or terminal socket needs
EVENTS = frozenset({"read"})  # what the events stream needs


def org_sockets(
    *owners: tuple[str, str, str | None], needs: frozenset[str] = KERNEL
) -> tuple[OpenSockets, list[FakeSocket]]:
    sockets, held = OpenSockets(), []
    for user, sess, org in owners:
        held.append(FakeSocket())
        sockets.track(held[-1], SocketOwner(user, sess, org, needs))
    return sockets, held


@pytest.mark.parametrize("check", [True, False])
async def test_a_removed_member_loses_the_organizations_sockets_without_a_webhook(check):
    """With the check off (the attack), the removed member's socket stays open."""
    sockets, held = org_sockets(
        ("user_a", "sess_1", "org_x"), ("user_a", "sess_1", "org_y"), ("user_b", "sess_2", "org_x")
    )
    directory = Directory(membership("user_a", "org_y"), membership("user_b", "org_x"))
    revalidator, _, revocation = revalidator_with(directory, sockets, check=check)
    assert await revalidator.check_now() == (1 if check else 0)
    if check:
        assert held[0].closed_with == (1008, "Clerk organization membership changed")
        assert revocation.refuses("user_a", "sess_1", "org_x", time.time() - 1)
    else:
        assert held[0].closed_with is None
    assert held[1].closed_with is None and held[2].closed_with is None


@pytest.mark.parametrize(
    ("role", "permissions", "kept"),
    [
        ("org:viewer", (), False),  # a role that only reads
        ("org:member", ("org:jupyter:read",), False),  # Clerk permissions win over the role
        ("org:member", (), True),
        ("org:viewer", ("org:jupyter:execute",), True),
    ],
)
async def test_a_role_that_no_longer_runs_code_closes_the_organizations_kernel_sockets(
    role, permissions, kept
):
    sockets, held = org_sockets(("user_a", "sess_1", "org_x"))
    directory = Directory(membership("user_a", "org_x", role, *permissions))
    revalidator, _, revocation = revalidator_with(directory, sockets)
    await revalidator.check_now()
    assert (held[0].closed_with is None) is kept
    assert revocation.refuses("user_a", "sess_1", "org_x", time.time() - 1) is not kept


@pytest.mark.parametrize(
    ("role", "permissions"), [("org:viewer", ()), ("org:member", ("org:jupyter:read",))]
)
async def test_a_reader_keeps_read_only_sockets_tokens_and_cached_memberships(role, permissions):
    """A viewer's events stream needs only reading: round after round, nothing was lost.
    Before, each round closed it, refused the viewer's tokens there for ten minutes and
    emptied the membership cache (a lookup per round)."""
    sockets, held = org_sockets(("user_a", "sess_1", "org_x"), needs=EVENTS)
    directory = Directory(membership("user_a", "org_x", role, *permissions))
    revalidator, _, revocation = revalidator_with(directory, sockets)
    for _ in range(3):
        assert await revalidator.check_now() == 0
    assert held[0].closed_with is None
    assert not revocation.refuses("user_a", "sess_1", "org_x", time.time() - 1)
    assert directory.lookups == ["user_a"]


async def test_losing_write_closes_extension_sockets_and_keeps_kernel_sockets():
    """An extension's socket (a collaborative document's room writes through it) needs every
    right it was opened with, so losing write closes it; a kernel socket needs only execute."""
    everything = frozenset({"read", "write", "execute"})
    sockets, held = org_sockets(("user_a", "sess_1", "org_x"), needs=everything)
    sockets.track(kernel := FakeSocket(), SocketOwner("user_a", "sess_1", "org_x", KERNEL))
    directory = Directory(
        membership("user_a", "org_x", "org:member", "org:jupyter:read", "org:jupyter:execute")
    )
    revalidator, _, _ = revalidator_with(directory, sockets)
    assert await revalidator.check_now() == 1
    assert held[0].closed_with == (1008, "Clerk organization membership changed")
    assert kernel.closed_with is None


async def test_a_lost_right_closes_only_the_sockets_that_need_it():
    sockets, held = org_sockets(("user_a", "sess_1", "org_x"))  # a kernel socket
    sockets.track(events := FakeSocket(), SocketOwner("user_a", "sess_1", "org_x", EVENTS))
    sockets.track(elsewhere := FakeSocket(), SocketOwner("user_a", "sess_1", "org_y", KERNEL))
    directory = Directory(
        membership("user_a", "org_x", "org:viewer"), membership("user_a", "org_y")
    )
    revalidator, _, revocation = revalidator_with(directory, sockets)
    assert await revalidator.check_now() == 1
    assert held[0].closed_with == (1008, "Clerk organization membership changed")
    assert events.closed_with is None and elsewhere.closed_with is None
    assert revocation.refuses("user_a", "sess_1", "org_x", time.time() - 1)
    assert not revocation.refuses("user_a", "sess_1", "org_y", time.time() - 1)


async def test_a_round_looks_up_each_persons_memberships_once_and_not_while_fresh():
    sockets, _held = org_sockets(
        ("user_a", "sess_1", "org_x"),
        ("user_a", "sess_1", "org_y"),
        ("user_a", "sess_2", "org_x"),
        ("user_b", "sess_3", "org_x"),
        ("user_c", "sess_4", None),  # personal workspaces have no membership to lose
    )
    directory = Directory(
        membership("user_a", "org_x"), membership("user_a", "org_y"), membership("user_b", "org_x")
    )
    revalidator, cache, _ = revalidator_with(directory, sockets)
    assert await revalidator.check_now() == 0
    assert sorted(directory.lookups) == ["user_a", "user_b"]
    assert revalidator.calls == 4 + 2  # four sessions, two people
    await revalidator.check_now()  # the cache's answers are fresh: Clerk is not asked again
    assert sorted(directory.lookups) == ["user_a", "user_b"] and revalidator.calls == 6 + 4
    cache.invalidate_user("user_b")
    await revalidator.check_now()
    assert sorted(directory.lookups) == ["user_a", "user_b", "user_b"]


@pytest.mark.parametrize("failure", [RateLimited(60, "slow down"), BackendUnavailable(503, "down")])
async def test_memberships_clerk_cannot_confirm_keep_the_sockets_open(failure):
    sockets, held = org_sockets(("user_a", "sess_1", "org_x"))
    directory = Directory()
    directory.fail = failure
    revalidator, _, _ = revalidator_with(directory, sockets)
    assert await revalidator.check_now() == 0
    assert held[0].closed_with is None


async def test_a_day_long_retry_after_does_not_keep_a_removed_members_sockets_open():
    """The 429 keeps the socket that round (Clerk could not say), but its back-off is bounded:
    an hour later the removal, reported by no webhook, is seen and the socket closed."""
    clock = [1000.0]
    sockets, held = org_sockets(("user_a", "sess_1", "org_x"))
    directory = Directory(membership("user_a", "org_x"))
    cache = MembershipCache(directory.lookup, ttl=60, clock=lambda: clock[0])
    revocation = Revocation(ExpiringLRU(10, time.monotonic), None, None, sockets)

    async def active(session_id: str) -> Session:
        return session(session_id, "active")

    check = MembershipCheck(cache, membership_actions, revocation.membership_lost)
    revalidator = SessionRevalidator(sockets, active, 300, memberships=check, calls_per_second=1e6)
    directory.fail = RateLimited(24 * 60 * 60)
    assert await revalidator.check_now() == 0
    directory.fail = None
    directory.memberships = []  # removed from org_x, no webhook
    clock[0] += 3600
    assert await revalidator.check_now() == 1
    assert held[0].closed_with is not None


async def test_membership_lookups_share_the_rounds_budget():
    clock = FakeClock()

    async def lookup(user_id: str) -> list[Membership]:
        await spend_request_budget()
        clock.called_at.append(clock.now)
        return [membership(user_id, "org_x")]

    sockets, _held = org_sockets(*((f"user_{n}", f"sess_{n}", "org_x") for n in range(15)))
    revocation = Revocation(ExpiringLRU(10, time.monotonic), None, None, sockets)
    check = MembershipCheck(MembershipCache(lookup), membership_actions, revocation.membership_lost)
    revalidator = SessionRevalidator(
        sockets,
        clock.get_session,
        300,
        memberships=check,
        calls_per_second=5,
        clock=lambda: clock.now,
        sleep=clock.sleep,
    )
    await revalidator.check_now()
    assert len(clock.called_at) == 30  # 15 sessions, 15 people
    clock.assert_within_budget(5)


async def test_a_round_that_fails_unexpectedly_does_not_stop_the_next_rounds():
    sockets, held = open_sockets(1)
    rounds = 0

    async def get_session(session_id: str) -> Session:
        nonlocal rounds
        rounds += 1
        if rounds == 1:
            raise RuntimeError("a bug in one round")
        return session(session_id, "revoked")

    revalidator = SessionRevalidator(sockets, get_session, 0.01, jitter=0)
    revalidator.ensure_running()
    try:
        async with asyncio.timeout(10):  # only stops a broken test from hanging
            while held[0].closed_with is None:
                await asyncio.sleep(0.01)
    finally:
        revalidator.stop()
    assert rounds == 2


# --- the budget counts the HTTP requests Clerk receives, retries included -----------------

SESSIONS = r"/v1/sessions/"
MEMBERSHIPS = r"/v1/users/[^/]+/organization_memberships"
PER_SECOND = 5
COUNT = 20


def failing_round(
    clerk_instance, path: str, **checks
) -> tuple[SessionRevalidator, FakeClock, list[FakeSocket]]:
    """A round over COUNT people's organization sockets, at PER_SECOND, against a Clerk that
    answers `path` with 503 for good, through a client that retries (as the provider's does)."""
    clerk_instance.faults.fail(503, times=10 * COUNT, path=path)
    clock = FakeClock()
    sockets, held = org_sockets(
        *((f"user_2aReview{n}", f"sess_2aReview{n}", "org_x") for n in range(COUNT))
    )
    revalidator = SessionRevalidator(
        sockets,
        checks["get_session"],
        300,
        memberships=checks.get("memberships"),
        calls_per_second=PER_SECOND,
        concurrency=4,
        clock=lambda: clock.now,
        sleep=clock.sleep,
    )
    return revalidator, clock, held


async def test_a_round_against_a_failing_clerk_stays_within_its_request_budget(clerk_instance):
    """Counting re-checks instead of requests, 20 re-checks sent 60 requests (two retries
    each) where the budget allowed 5 + 5 × the seconds waited."""
    api = BackendAPI(clerk_instance.api_url, clerk_instance.secret_key, backoff=0.001)
    revalidator, clock, _held = failing_round(clerk_instance, SESSIONS, get_session=api.get_session)
    assert await revalidator.check_now() == 0  # an outage closes nothing
    sent = clerk_instance.faults.calls_to(SESSIONS)
    assert sent == revalidator.calls == 3 * COUNT  # each request counted, retries too
    assert sent <= PER_SECOND + PER_SECOND * clock.now + 1e-9


async def test_membership_lookups_against_a_failing_clerk_stay_within_the_request_budget(
    clerk_instance,
):
    api = BackendAPI(clerk_instance.api_url, clerk_instance.secret_key, backoff=0.001)
    cache = MembershipCache(api.user_memberships)
    revocation = Revocation(ExpiringLRU(10, time.monotonic), None, None, OpenSockets())

    async def active(session_id: str) -> Session:
        await spend_request_budget()
        return session(session_id, "active")

    check = MembershipCheck(cache, membership_actions, revocation.membership_lost)
    revalidator, clock, _held = failing_round(
        clerk_instance, MEMBERSHIPS, get_session=active, memberships=check
    )
    assert await revalidator.check_now() == 0
    sent = clerk_instance.faults.calls_to(MEMBERSHIPS)
    assert sent == 3 * COUNT and revalidator.calls == COUNT + sent
    assert revalidator.calls <= PER_SECOND + PER_SECOND * clock.now + 1e-9


async def test_requests_after_a_round_are_not_charged_to_its_budget(clerk_instance):
    api = BackendAPI(clerk_instance.api_url, clerk_instance.secret_key, backoff=0.001)
    revalidator, _, _held = failing_round(clerk_instance, SESSIONS, get_session=api.get_session)
    await revalidator.check_now()
    spent = revalidator.calls
    clerk_instance.faults.clear()
    await api.get_user(ADA)
    assert revalidator.calls == spent
