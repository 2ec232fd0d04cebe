"""Review of issue 15: a Retry-After from a 429 is taken without a bound.

`MembershipCache._load` stores `now + retry_after` as the user's back-off, whatever the
header said (`parse_retry_after` accepts up to 999 999 999 s or any future HTTP date). One 429
from a buggy or hostile answer then locks that person's membership lookups out for a day:
their other organizations answer 503, and the revalidation of open sockets, which fails open
on MembershipsUnavailable, keeps a removed member's kernel sockets open for that long.
"""

from __future__ import annotations

import time

import pytest

from jupyter_clerk.cache import ExpiringLRU
from jupyter_clerk.clerk_api.client import BackendAPI, RateLimited
from jupyter_clerk.clerk_api.memberships import MembershipCache, MembershipsUnavailable
from jupyter_clerk.revocation.denylist import Revocation
from jupyter_clerk.revocation.open_sockets import MembershipCheck, SessionRevalidator
from jupyter_clerk.workspaces.authorizer import membership_actions
from tests.clerk_api.test_memberships import MEMBERSHIPS, Clock
from tests.devinstance.helpers import ADA, ENGINES
from tests.revocation.test_revalidation import Directory, membership, org_sockets, session

A_DAY = 24 * 60 * 60
# What a bounded back-off would allow at most: the revalidation interval (300 s) twice over.
REASONABLE = 600


async def test_a_day_long_retry_after_does_not_lock_a_persons_lookups_for_a_day(clerk_instance):
    """Fails today: ten minutes (and an hour) later, the lookup is still refused without
    asking Clerk, with a Retry-After of about a day."""
    clock = Clock()
    api = BackendAPI(clerk_instance.api_url, clerk_instance.secret_key, max_retries=0)
    cache = MembershipCache(api.user_memberships, ttl=60, clock=clock)
    clerk_instance.faults.rate_limit(retry_after=A_DAY, path=MEMBERSHIPS)
    with pytest.raises(MembershipsUnavailable):
        await cache.memberships(ADA)
    calls = clerk_instance.faults.calls_to(MEMBERSHIPS)
    clock.now += REASONABLE
    assert (await cache.membership(ADA, ENGINES)).role == "org:admin"
    assert clerk_instance.faults.calls_to(MEMBERSHIPS) == calls + 1


async def test_a_day_long_retry_after_does_not_keep_a_removed_members_sockets_open():
    """Fails today: an hour after the 429 (and after the member was removed) the round
    still cannot look the member up, and fails open: the kernel socket stays."""
    clock = Clock()
    sockets, held = org_sockets(("user_a", "sess_1", "org_x"))
    directory = Directory(membership("user_a", "org_x"))
    cache = MembershipCache(directory.lookup, ttl=60, clock=clock)
    revocation = Revocation(ExpiringLRU(10, time.monotonic), None, None, sockets)

    async def active(session_id: str):
        return session(session_id, "active")

    revalidator = SessionRevalidator(
        sockets,
        active,
        300,
        memberships=MembershipCheck(cache, membership_actions, revocation.membership_lost),
        calls_per_second=1e6,
    )
    directory.fail = RateLimited(A_DAY)
    assert await revalidator.check_now() == 0  # documented: Clerk could not say, keep it
    directory.fail = None
    directory.memberships = []  # removed from org_x, no webhook
    clock.now += 3600
    assert await revalidator.check_now() == 1
    assert held[0].closed_with is not None
