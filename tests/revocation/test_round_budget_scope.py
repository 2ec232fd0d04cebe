"""The revalidation round's request budget should pace the round's own requests only.

A KNOWN DEFECT, marked as expected to fail: a membership lookup the round starts runs in a task
that copied the round's context (`SingleFlight.start` uses `ensure_future`), so a web request
that joins it waits for the round's budget as well (typically under a second; a long paginated
lookup much longer). Running loads in a fresh context fixes this test but leaves the round's
own lookups uncharged; the fix must charge whoever waits. Seen both ways: fails as things are,
passes with each load in a fresh `contextvars.Context()`."""

from __future__ import annotations

import asyncio
import time

import pytest

from jupyter_clerk.cache import ExpiringLRU
from jupyter_clerk.clerk_api.client import spend_request_budget
from jupyter_clerk.clerk_api.memberships import MembershipCache
from jupyter_clerk.revocation.denylist import Revocation
from jupyter_clerk.revocation.open_sockets import MembershipCheck, SessionRevalidator
from jupyter_clerk.workspaces.authorizer import membership_actions
from tests.revocation.test_revalidation import membership, org_sockets, session


@pytest.mark.xfail(strict=True, reason="known: a joined lookup keeps the round's budget")
async def test_a_web_request_joining_a_rounds_lookup_is_not_held_by_the_rounds_budget():
    # The round's budget never refills (its clock stands still) and its waits last until
    # released: whatever is charged to it after the first request waits until then.
    released, now = asyncio.Event(), [0.0]

    async def held(_seconds: float) -> None:
        await released.wait()

    started: list[str] = []

    async def lookup(user_id: str):
        started.append(user_id)
        await spend_request_budget()  # as BackendAPI does before each request
        return [membership(user_id, "org_x")]

    async def active(session_id: str):
        await spend_request_budget()
        return session(session_id, "active")

    sockets, _held = org_sockets(("user_a", "sess_a", "org_x"))
    revocation = Revocation(ExpiringLRU(10, time.monotonic), None, None, sockets)
    cache = MembershipCache(lookup)
    check = MembershipCheck(cache, membership_actions, revocation.membership_lost)
    revalidator = SessionRevalidator(
        sockets,
        active,
        300,
        memberships=check,
        calls_per_second=1,
        clock=lambda: now[0],
        sleep=held,
    )
    round_ = asyncio.ensure_future(revalidator.check_now())
    for _ in range(1000):  # the session check spent the one token; the round's lookup starts
        if started:
            break
        await asyncio.sleep(0)
    assert started == ["user_a"]

    # A web request (no budget of its own) asks for the same person's memberships.
    web = asyncio.ensure_future(cache.memberships("user_a"))
    done, _ = await asyncio.wait({web}, timeout=2)
    now[0] += 3600  # the budget refills: the round, and the lookup, can finish
    released.set()
    await round_
    await web
    assert web in done, "the web request waited for the revalidation round's request budget"
