"""Organization memberships per user, from the Backend API, cached briefly.

This is what lets a tab work in an organization other than the session's active one: the
token proves who the person is, the membership proves they belong there. One lookup is in
flight per user. Past its TTL an entry is still served, for a bounded time, while a refresh
runs in the background, so a slow or rate-limited Backend API does not turn every expiry into
a 503; a 429 backs off only the lookups of the user it answered (`Retry-After`). Once that
bound is passed, or for a user not in the cache, a failing Backend API fails closed (503).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial

from tornado import web

from ..cache import Current, ExpiringLRU, SingleFlight
from .client import BackendAPIError, BackendUnavailable, NotFound, RateLimited
from .models import Membership

Lookup = Callable[[str], Awaitable[list[Membership]]]
# Lookups one caller makes while invalidations keep overtaking them (then it takes the last).
_ATTEMPTS = 3

log = logging.getLogger(__name__)


class MembershipsUnavailable(web.HTTPError):
    def __init__(self, retry_after: float | None = None) -> None:
        super().__init__(
            503, "Clerk could not confirm your organization membership; try again shortly."
        )
        self.retry_after = retry_after


class MembershipCache:
    """Memberships per user: fresh for `ttl`, then served stale for at most `stale` more
    seconds while one refresh is pending, never longer (the documented bound on how long a
    removed member keeps access when no webhook reports the removal)."""

    def __init__(
        self,
        lookup: Lookup,
        *,
        ttl: float = 60.0,
        stale: float = 30.0,
        max_users: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._stale = stale
        self._clock = clock
        # (read at, memberships), kept until ttl + stale; invalidated by user or organization,
        # and a lookup that an invalidation overtook is not stored (SingleFlight's `current`).
        self._entries: ExpiringLRU[str, tuple[float, dict[str, Membership]]] = ExpiringLRU(
            max_users, clock, lambda entry: [("organization", org) for org in entry[1]]
        )
        self._loads: SingleFlight[str, dict[str, Membership]] = SingleFlight()
        # A 429 slows down the lookups of the user it answered, not everyone's.
        self._not_before: ExpiringLRU[str, float] = ExpiringLRU(max_users, clock)
        self.lookups = 0

    async def membership(self, user_id: str, organization_id: str) -> Membership | None:
        return (await self.memberships(user_id)).get(organization_id)

    async def memberships(self, user_id: str) -> dict[str, Membership]:
        cached = self._entries.get(user_id)
        if cached is not None:
            read_at, memberships = cached
            if self._clock() - read_at >= self._ttl:
                self._refresh_in_background(user_id)
            return memberships
        return await self.reload(user_id)

    def fresh(self, user_id: str) -> dict[str, Membership] | None:
        """The cached memberships while younger than the TTL: what needs no call to Clerk."""
        cached = self._entries.get(user_id)
        if cached is None or self._clock() - cached[0] >= self._ttl:
            return None
        return cached[1]

    async def reload(self, user_id: str) -> dict[str, Membership]:
        """Reads them from Clerk now (or joins the read in flight), never serving stale ones:
        the revalidation of open sockets needs the current answer, not the bounded-stale one."""
        for _ in range(_ATTEMPTS):
            generation = self._loads.generation
            memberships = await self._loads.run(user_id, partial(self._load, user_id))
            if generation == self._loads.generation:
                break
            # An invalidation came while we waited: the answer may predate it; ask again.
        return memberships

    def webhooks_configured(self, backoff: float) -> None:
        """organizationMembership webhooks invalidate at once: the TTL is only a safety net."""
        self._ttl *= backoff

    def invalidate_user(self, user_id: str) -> None:
        self._entries.pop(user_id)
        self._loads.forget(user_id)  # later callers must not join an older lookup

    def invalidate_organization(self, organization_id: str) -> None:
        self._entries.discard_tagged(("organization", organization_id))
        self._loads.clear()

    def _refresh_in_background(self, user_id: str) -> None:
        if user_id in self._loads or self._not_before.get(user_id) is not None:
            return
        future = self._loads.start(user_id, partial(self._load, user_id))
        # Whoever is served the stale entry does not wait; the failure is logged by _load.
        future.add_done_callback(lambda f: f.cancelled() or f.exception())

    async def _load(self, user_id: str, current: Current) -> dict[str, Membership]:
        not_before = self._not_before.get(user_id)
        if not_before is not None:
            raise MembershipsUnavailable(not_before - self._clock())
        self.lookups += 1
        try:
            found = await self._lookup(user_id)
        except NotFound:
            found = []
        except RateLimited as exc:
            retry_after = exc.retry_after or 1.0
            now = self._clock()
            self._not_before.put(user_id, now + retry_after, now + retry_after)
            raise MembershipsUnavailable(retry_after) from None
        except BackendUnavailable:
            raise MembershipsUnavailable() from None
        except BackendAPIError as exc:
            # A refused secret key or an answer we cannot read: nobody's membership can
            # be confirmed until an operator looks, and the person still gets a clean 503.
            log.error("Clerk's Backend API refused a membership lookup: %s", exc)
            raise MembershipsUnavailable() from None
        memberships = {m.organization_id: m for m in found if m.user_id == user_id}
        if current():
            now = self._clock()
            self._entries.put(user_id, (now, memberships), now + self._ttl + self._stale)
        return memberships
