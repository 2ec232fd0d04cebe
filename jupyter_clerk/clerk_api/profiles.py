"""People's names and pictures (`GET /v1/users/{id}`), cached per person.

The top bar asks for the profile on every page load; without a cache each load would be a
Backend API call. A profile changes rarely and carries no access: it is kept for `ttl`, dropped
at once by the `user.updated` and `user.deleted` webhooks, and a failed lookup is remembered
briefly so an outage is not retried on every page load.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial

from ..cache import Current, ExpiringLRU, SingleFlight
from .client import BackendAPIError
from .models import User

log = logging.getLogger(__name__)

GetUser = Callable[[str], Awaitable[User]]


class ProfileCache:
    def __init__(
        self,
        get_user: GetUser,
        *,
        ttl: float = 600.0,
        failure_ttl: float = 30.0,
        max_users: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._get_user = get_user
        self._ttl, self._failure_ttl = ttl, failure_ttl
        self._clock = clock
        # (None,) stands for "Clerk could not say": no profile, for failure_ttl.
        self._entries: ExpiringLRU[str, tuple[User | None]] = ExpiringLRU(max_users, clock)
        self._loads: SingleFlight[str, User | None] = SingleFlight()
        self.lookups = 0

    async def profile(self, user_id: str) -> User | None:
        cached = self._entries.get(user_id)
        if cached is not None:
            return cached[0]
        return await self._loads.run(user_id, partial(self._load, user_id))

    def invalidate(self, user_id: str) -> None:
        self._entries.pop(user_id)
        self._loads.forget(user_id)

    async def _load(self, user_id: str, current: Current) -> User | None:
        self.lookups += 1
        try:
            user: User | None = await self._get_user(user_id)
            ttl = self._ttl
        except BackendAPIError as exc:
            log.info("No Clerk profile for %s: %s", user_id, exc)
            user, ttl = None, self._failure_ttl
        if current():
            self._entries.put(user_id, (user,), self._clock() + ttl)
        return user
