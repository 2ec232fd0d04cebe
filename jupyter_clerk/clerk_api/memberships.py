"""Organization memberships per user, from the Backend API, cached briefly.

This is what lets a tab work in an organization other than the session's active one: the
token proves who the person is, the membership proves they belong there. One lookup is in
flight per user; a rate-limited or failing Backend API is served from the cache while it is
fresh and then fails closed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from tornado import web

from ..cache import ExpiringLRU
from .client import BackendAPIError, BackendUnavailable, NotFound, RateLimited
from .models import Membership

Lookup = Callable[[str], Awaitable[list[Membership]]]

log = logging.getLogger(__name__)


class MembershipsUnavailable(web.HTTPError):
    def __init__(self, retry_after: float | None = None) -> None:
        super().__init__(
            503, "Clerk could not confirm your organization membership; try again shortly."
        )
        self.retry_after = retry_after


class MembershipCache:
    def __init__(
        self,
        lookup: Lookup,
        *,
        ttl: float = 60.0,
        max_users: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._clock = clock
        # Expires after the TTL; invalidated by user or organization, and a lookup that an
        # invalidation overtook is not stored (the generation below).
        self._entries: ExpiringLRU[str, dict[str, Membership]] = ExpiringLRU(max_users, clock)
        self._in_flight: dict[str, asyncio.Future[dict[str, Membership]]] = {}
        self._not_before = 0.0
        # Bumped by every invalidation: a lookup that started before one must not store
        # what it read, or a removed member would keep access until the TTL.
        self._generation = 0
        self.lookups = 0

    async def membership(self, user_id: str, organization_id: str) -> Membership | None:
        return (await self.memberships(user_id)).get(organization_id)

    async def memberships(self, user_id: str) -> dict[str, Membership]:
        cached = self._entries.get(user_id)
        if cached is not None:
            return cached
        future = self._in_flight.get(user_id)
        if future is None:
            future = asyncio.ensure_future(self._load(user_id))
            self._in_flight[user_id] = future
        return await asyncio.shield(future)

    async def _load(self, user_id: str) -> dict[str, Membership]:
        try:
            now = self._clock()
            if now < self._not_before:
                raise MembershipsUnavailable(self._not_before - now)
            self.lookups += 1
            generation = self._generation
            try:
                found = await self._lookup(user_id)
            except NotFound:
                found = []
            except RateLimited as exc:
                self._not_before = self._clock() + (exc.retry_after or 1.0)
                raise MembershipsUnavailable(exc.retry_after) from None
            except BackendUnavailable:
                raise MembershipsUnavailable() from None
            except BackendAPIError as exc:
                # A refused secret key or an answer we cannot read: nobody's membership can
                # be confirmed until an operator looks, and the person still gets a clean 503.
                log.error("Clerk's Backend API refused a membership lookup: %s", exc)
                raise MembershipsUnavailable() from None
            memberships = {m.organization_id: m for m in found if m.user_id == user_id}
            if generation == self._generation:
                self._entries.put(user_id, memberships, self._clock() + self._ttl)
            return memberships
        finally:
            self._in_flight.pop(user_id, None)

    def invalidate_user(self, user_id: str) -> None:
        self._generation += 1
        self._entries.pop(user_id)

    def invalidate_organization(self, organization_id: str) -> None:
        self._generation += 1
        self._entries.discard_where(lambda memberships: organization_id in memberships)
