"""Organization memberships from the Backend API: one lookup per user per TTL, fail closed."""

from __future__ import annotations

import asyncio

import pytest

from jupyter_clerk.clerk_api.client import BackendAPI
from jupyter_clerk.clerk_api.memberships import MembershipCache, MembershipsUnavailable
from tests.devinstance.helpers import ADA, ENGINES, GUILD, PARTNERS

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


async def test_memberships_are_looked_up_again_after_the_ttl(cache, clerk_instance, clock):
    await cache.memberships(ADA)
    clock.now += 59
    await cache.memberships(ADA)
    assert clerk_instance.faults.calls_to(MEMBERSHIPS) == 1
    clock.now += 2
    await cache.memberships(ADA)
    assert clerk_instance.faults.calls_to(MEMBERSHIPS) == 2


async def test_backend_outage_is_served_from_a_fresh_cache_then_fails_closed(
    cache, clerk_instance, clock
):
    await cache.memberships(ADA)
    clerk_instance.faults.fail(503, times=10)
    assert await cache.membership(ADA, PARTNERS)
    clock.now += 61
    with pytest.raises(MembershipsUnavailable) as info:
        await cache.membership(ADA, PARTNERS)
    assert info.value.status_code == 503


async def test_rate_limit_is_honoured_before_asking_again(cache, clerk_instance, clock):
    clerk_instance.faults.rate_limit(retry_after=30)
    with pytest.raises(MembershipsUnavailable) as info:
        await cache.memberships(ADA)
    assert info.value.retry_after == 30
    calls = clerk_instance.faults.calls_to(MEMBERSHIPS)
    clock.now += 10
    with pytest.raises(MembershipsUnavailable):
        await cache.memberships(ADA)
    assert clerk_instance.faults.calls_to(MEMBERSHIPS) == calls
    clock.now += 21
    assert await cache.membership(ADA, ENGINES)


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
