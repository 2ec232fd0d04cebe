"""Whether a Clerk session is still signed in, asked of the Backend API at most once per
session per cache lifetime, however many of the Hub's requests refresh at once.

`refresh_user` runs on the Hub's request path for every signed-in person after
`auth_refresh_age`; without this cache a busy Hub would spend Clerk's Backend API rate limit
on the same answer. A failing or rate-limited Backend API fails closed: the person signs in
again rather than keep a session nobody could confirm.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from functools import partial

from ..cache import Current, ExpiringLRU, SingleFlight
from ..clerk_api.client import BackendAPIError, NotFound
from ..clerk_api.models import Session

Lookup = Callable[[str], Awaitable[Session]]


class SessionStatusCache:
    def __init__(
        self,
        lookup: Lookup,
        *,
        ttl: float = 60.0,
        max_sessions: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._clock = clock
        # Keyed by session id; the value remembers whose session it is.
        self._entries: ExpiringLRU[str, tuple[str, bool]] = ExpiringLRU(max_sessions, clock)
        self._loads: SingleFlight[str, tuple[str, bool]] = SingleFlight()
        self.lookups = 0

    async def active(self, session_id: str, user_id: str) -> bool:
        """True only for an active session of this very user."""
        cached = self._entries.get(session_id)
        if cached is not None:
            return cached == (user_id, True)
        owner, active = await self._loads.run(session_id, partial(self._load, session_id))
        return active and owner == user_id

    def forget(self, session_id: str) -> None:
        """A webhook said the session ended: the next check must ask Clerk."""
        self._entries.pop(session_id)
        self._loads.forget(session_id)

    async def _load(self, session_id: str, current: Current) -> tuple[str, bool]:
        self.lookups += 1
        try:
            session = await self._lookup(session_id)
        except NotFound:
            result = ("", False)
        except (BackendAPIError, ValueError):
            return ("", False)  # not cached: the next check asks again
        else:
            result = (session.user_id, session.status == "active")
        if current():
            self._entries.put(session_id, result, self._clock() + self._ttl)
        return result
