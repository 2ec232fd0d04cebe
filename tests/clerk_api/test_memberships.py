"""Organization memberships from the Backend API: one lookup per user per TTL, a bounded
stale window while refreshing, per-user back-off on 429, fail closed past the bound."""

from __future__ import annotations

import asyncio

import pytest

from jupyter_clerk.clerk_api.client import MAX_RETRY_AFTER, BackendAPI
from jupyter_clerk.clerk_api.memberships import MembershipCache, MembershipsUnavailable
from tests.devinstance.helpers import ADA, ENGINES, GRACE, GUILD, LINUS, PARTNERS

MEMBERSHIPS = r"/v1/users/[^/]+/organization_memberships"


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(clerk_instance, clock) -> MembershipCache:
    api = BackendAPI(clerk_instance.api_url, clerk_instance.secret_key, max_retries=0)
    return MembershipCache(api.user_memberships, ttl=60, clock=clock)


async def test_membership_carries_role_and_permissions(cache):
    membership = await cache.membership(ADA, PARTNERS)
    assert membership.role == "org:member"
    assert "org:jupyter:execute" in membership.permissions
    assert await cache.membership(ADA, GUILD) is None


async def test_concurrent_first_lookups_make_one_call(cache, clerk_instance):
    results = await asyncio.gather(*(cache.membership(ADA, ENGINES) for _ in range(200)))
    assert all(r.role == "org:admin" for r in results)
    assert clerk_instance.faults.calls_to(MEMBERSHIPS) == 1


async def settle(cache: MembershipCache) -> None:
    """Lets a background refresh finish."""
    for _ in range(500):  # bounded: a refresh against the local instance takes milliseconds
        if not cache._loads:
            return
        await asyncio.sleep(0.01)


async def test_after_the_ttl_the_entry_is_served_while_one_refresh_runs(
    cache, clerk_instance, clock
):
    await cache.memberships(ADA)
    clock.now += 59
    await cache.memberships(ADA)
    assert clerk_instance.faults.calls_to(MEMBERSHIPS) == 1
    clock.now += 2
    clerk_instance.faults.delay(0.2, path=MEMBERSHIPS)
    served = await asyncio.wait_for(cache.membership(ADA, ENGINES), 0.1)  # not waiting
    assert served.role == "org:admin"
    await asyncio.gather(*(cache.memberships(ADA) for _ in range(50)))
    await settle(cache)
    assert clerk_instance.faults.calls_to(MEMBERSHIPS) == 2


async def test_a_refresh_after_the_ttl_takes_a_removal_into_account(cache, clerk_instance, clock):
    assert await cache.membership(ADA, PARTNERS)
    clerk_instance.remove_membership(ADA, PARTNERS)  # no webhook: only the TTL bounds it
    clock.now += 61
    await cache.membership(ADA, PARTNERS)  # stale, within the documented bound
    await settle(cache)
    assert await cache.membership(ADA, PARTNERS) is None


async def test_backend_outage_serves_stale_entries_only_within_the_bound_then_fails_closed(
    cache, clerk_instance, clock
):
    await cache.memberships(ADA)
    clerk_instance.faults.fail(503, times=100)
    clock.now += 60 + 29  # ttl 60 s + stale 30 s (the defaults)
    assert await cache.membership(ADA, PARTNERS)
    await settle(cache)
    clock.now += 1
    with pytest.raises(MembershipsUnavailable) as info:
        await cache.membership(ADA, PARTNERS)
    assert info.value.status_code == 503


async def test_rate_limit_is_honoured_before_asking_again_for_that_user(
    cache, clerk_instance, clock
):
    clerk_instance.faults.rate_limit(retry_after=30)
    with pytest.raises(MembershipsUnavailable) as info:
        await cache.memberships(ADA)
    assert info.value.retry_after == 30
    calls = clerk_instance.faults.calls_to(MEMBERSHIPS)
    clock.now += 10
    with pytest.raises(MembershipsUnavailable) as info:
        await cache.memberships(ADA)
    assert info.value.retry_after == 20
    assert clerk_instance.faults.calls_to(MEMBERSHIPS) == calls
    clock.now += 21
    assert await cache.membership(ADA, ENGINES)


async def test_a_day_long_retry_after_does_not_lock_a_persons_lookups_for_a_day(
    cache, clerk_instance, clock
):
    """A buggy or hostile 429 backs off at most MAX_RETRY_AFTER, then Clerk is asked again."""
    clerk_instance.faults.rate_limit(retry_after=24 * 60 * 60, path=MEMBERSHIPS)
    with pytest.raises(MembershipsUnavailable) as info:
        await cache.memberships(ADA)
    assert info.value.retry_after == MAX_RETRY_AFTER
    calls = clerk_instance.faults.calls_to(MEMBERSHIPS)
    clock.now += MAX_RETRY_AFTER
    assert (await cache.membership(ADA, ENGINES)).role == "org:admin"
    assert clerk_instance.faults.calls_to(MEMBERSHIPS) == calls + 1


async def test_a_rate_limit_on_one_users_lookup_does_not_refuse_the_others(
    cache, clerk_instance, clock
):
    await cache.memberships(GRACE)
    clock.now += 61  # Grace's entry is stale
    clerk_instance.faults.rate_limit(retry_after=30)
    with pytest.raises(MembershipsUnavailable):
        await cache.memberships(ADA)
    assert await cache.membership(GRACE, PARTNERS)  # stale, still served
    await settle(cache)
    assert await cache.membership(LINUS, GUILD) is None  # a new lookup, not refused


async def test_invalidating_an_organization_keeps_other_organizations_entries(
    cache, clerk_instance
):
    await cache.memberships(ADA)
    await cache.memberships(LINUS)
    calls = clerk_instance.faults.calls_to(MEMBERSHIPS)
    cache.invalidate_organization(PARTNERS)  # Ada's organization, not Linus's
    await cache.memberships(LINUS)
    assert clerk_instance.faults.calls_to(MEMBERSHIPS) == calls
    await cache.memberships(ADA)
    assert clerk_instance.faults.calls_to(MEMBERSHIPS) == calls + 1


async def test_invalidation_forgets_a_user_and_an_organization(cache, clerk_instance):
    await cache.memberships(ADA)
    cache.invalidate_organization(PARTNERS)
    await cache.memberships(ADA)
    cache.invalidate_user(ADA)
    await cache.memberships(ADA)
    assert clerk_instance.faults.calls_to(MEMBERSHIPS) == 3


async def test_cache_holds_a_bounded_number_of_users(clerk_instance, clock):
    api = BackendAPI(clerk_instance.api_url, clerk_instance.secret_key)
    cache = MembershipCache(api.user_memberships, max_users=2, clock=clock)
    for user in (ADA, "user_2aDemoGraceHopper", "user_2aDemoLinusSolo"):
        await cache.memberships(user)
    assert len(cache._entries) == 2


async def test_refused_secret_key_fails_closed_with_503(cache, clerk_instance):
    clerk_instance.faults.fail(401, path=MEMBERSHIPS)
    with pytest.raises(MembershipsUnavailable) as info:
        await cache.memberships(ADA)
    assert info.value.status_code == 503


async def test_invalidation_during_a_lookup_is_not_undone_by_it(cache, clerk_instance):
    clerk_instance.faults.delay(0.2, path=MEMBERSHIPS)
    lookup = asyncio.ensure_future(cache.memberships(ADA))
    await asyncio.sleep(0.05)
    cache.invalidate_user(ADA)  # e.g. a webhook: Ada left an organization
    await lookup
    await cache.memberships(ADA)
    assert clerk_instance.faults.calls_to(MEMBERSHIPS) == 2


async def test_with_webhooks_the_ttl_is_longer_and_an_invalidation_still_applies_at_once(
    cache, clerk_instance, clock
):
    cache.webhooks_configured(6)
    await cache.memberships(ADA)
    clock.now += 300
    await cache.memberships(ADA)
    assert clerk_instance.faults.calls_to(MEMBERSHIPS) == 1
    cache.invalidate_user(ADA)  # an organizationMembership webhook
    await cache.memberships(ADA)
    assert clerk_instance.faults.calls_to(MEMBERSHIPS) == 2


async def test_an_answer_read_before_an_invalidation_is_not_handed_out_after_it(
    clerk_instance, clock
):
    """A refresh's lookup that read Clerk before a webhook's change must not give the old
    membership to the refresh waiting on it, nor to the webhook's own check that joins it
    (the Hub would hand a demoted admin the role back). Checked: with the in-flight lookup
    shared across the invalidation, both saw Analytical Engines."""
    api = BackendAPI(clerk_instance.api_url, clerk_instance.secret_key, max_retries=0)
    answered, released = asyncio.Event(), asyncio.Event()

    async def slow_on_the_way_back(user_id: str):
        found = await api.user_memberships(user_id)
        answered.set()
        await released.wait()
        return found

    cache = MembershipCache(slow_on_the_way_back, ttl=60, clock=clock)
    refresh = asyncio.ensure_future(cache.memberships(ADA))
    await answered.wait()  # Clerk has answered: Ada is still in Analytical Engines
    clerk_instance.remove_membership(ADA, ENGINES)
    cache.invalidate_user(ADA)  # the organizationMembership.deleted webhook
    webhook_check = asyncio.ensure_future(cache.memberships(ADA))
    released.set()
    assert ENGINES not in await refresh
    assert ENGINES not in await webhook_check


async def test_the_revalidators_reload_never_serves_a_stale_answer(cache, clerk_instance, clock):
    """Open sockets are re-checked with Clerk's current answer, not the bounded-stale one."""
    await cache.memberships(GRACE)
    assert cache.fresh(GRACE) is not None
    clock.now += 61
    assert cache.fresh(GRACE) is None  # past the TTL: a re-check must ask Clerk
    clerk_instance.remove_membership(GRACE, PARTNERS)
    assert PARTNERS not in await cache.reload(GRACE)
    assert PARTNERS not in cache.fresh(GRACE)
    assert clerk_instance.faults.calls_to(MEMBERSHIPS) == 2
