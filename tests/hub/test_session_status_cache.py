"""The Hub's cache of whether a Clerk session is still signed in: a revocation is never
overtaken by a lookup that read Clerk before it."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from jupyter_clerk.hub.sessions import SessionStatusCache
from tests.hub.conftest import ADA


def test_a_lookup_in_flight_when_the_session_is_revoked_is_not_cached_as_active():
    """Before the fix the lookup, answered "active" by Clerk just before the revocation,
    stored that answer after `forget`: the revoked session's token could sign in to the Hub
    again for the cache's lifetime (seen: True after forget, one lookup)."""

    async def scenario() -> tuple[bool, int]:
        answered = asyncio.Event()
        statuses = iter(["active", "revoked"])

        async def lookup(session_id: str) -> SimpleNamespace:
            status = next(statuses)
            await answered.wait()
            return SimpleNamespace(user_id=ADA, status=status)

        cache = SessionStatusCache(lookup)
        in_flight = asyncio.ensure_future(cache.active("sess_2aAda", ADA))
        await asyncio.sleep(0)
        cache.forget("sess_2aAda")  # the session.revoked webhook
        answered.set()
        await in_flight  # began before the revocation: may still say active
        return await cache.active("sess_2aAda", ADA), cache.lookups

    active_after, lookups = asyncio.run(scenario())
    assert active_after is False
    assert lookups == 2
