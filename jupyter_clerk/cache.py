"""One bounded cache type for everything we remember about Clerk: verified tokens, client
tokens, memberships, profiles.

Each user of it decides its own expiry (a token's `exp`, a 60 s cap, a TTL) and its own
invalidation (by session, by user, by generation); the cache only keeps entries until their own
deadline and forgets the least recently used first, so no stream of distinct keys can grow it.

Revocation must not scan the whole cache for each event (a webhook at 10 000 cached tokens, a
round of thousands of ended sessions): entries can carry tags (`("session", id)`,
`("user", id)`, ...) computed from their value, and `discard_tagged` drops one tag's entries in
time proportional to their number.

What is not cached yet is loaded once however many ask at the same time: `SingleFlight`
shares one running load per key, so a burst of requests for one person costs one call.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Tags = Callable[[V], Iterable[Hashable]]


class ExpiringLRU(Generic[K, V]):
    """At most `max_entries` values, each until its own deadline on `clock`."""

    def __init__(
        self, max_entries: int, clock: Callable[[], float], tags: Tags[V] | None = None
    ) -> None:
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._max_entries = max_entries
        self._clock = clock
        self._tags: Tags[V] | None = None
        self._index: dict[Hashable, set[K]] = {}
        if tags is not None:
            self.index_by(tags)

    def __len__(self) -> int:
        return len(self._entries)

    def index_by(self, tags: Tags[V]) -> None:
        """Tags every entry, present and future, for `discard_tagged`."""
        self._tags = tags
        self._index = {}
        for key, (_, value) in self._entries.items():
            self._add_tags(key, value)

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._clock() >= entry[0]:
            self._remove(key)
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: K, value: V, until: float) -> None:
        if self._max_entries <= 0:
            return
        if key in self._entries:
            self._remove(key)
        self._entries[key] = (until, value)
        self._add_tags(key, value)
        while len(self._entries) > self._max_entries:
            self._remove(next(iter(self._entries)))

    def pop(self, key: K) -> None:
        if key in self._entries:
            self._remove(key)

    def discard_where(self, predicate: Callable[[V], bool]) -> int:
        """Drops every value the predicate picks; scans everything, so not for hot paths."""
        doomed = [key for key, (_, value) in self._entries.items() if predicate(value)]
        for key in doomed:
            self._remove(key)
        return len(doomed)

    def discard_tagged(self, tag: Hashable) -> int:
        """Drops every entry carrying `tag` (a revoked session, a deleted user)."""
        if self._tags is None:
            raise RuntimeError("this cache has no tags: call index_by first")
        doomed = list(self._index.get(tag, ()))
        for key in doomed:
            self._remove(key)
        return len(doomed)

    def _add_tags(self, key: K, value: V) -> None:
        if self._tags is not None:
            for tag in self._tags(value):
                self._index.setdefault(tag, set()).add(key)

    def _remove(self, key: K) -> None:
        _, value = self._entries.pop(key)
        if self._tags is None:
            return
        for tag in self._tags(value):
            keys = self._index.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._index[tag]


Current = Callable[[], bool]


class SingleFlight(Generic[K, V]):
    """At most one load per key at a time. A caller that gives up (a closed request) stops
    waiting, never the load the others wait for.

    A load is given `current()`, False once `forget` or `clear` ran after it started: what it
    read may predate that invalidation, so it must not be stored (a revoked session cached
    as active, a removed member's membership). Callers after `forget` start a new load."""

    def __init__(self) -> None:
        self._loads: dict[K, asyncio.Future[V]] = {}
        self.generation = 0  # bumped by every invalidation

    def __contains__(self, key: object) -> bool:
        return key in self._loads

    def __len__(self) -> int:
        return len(self._loads)

    def start(self, key: K, load: Callable[[Current], Awaitable[V]]) -> asyncio.Future[V]:
        """The load running for `key`, or `load(current)` started now."""
        future = self._loads.get(key)
        if future is None:
            generation = self.generation
            future = asyncio.ensure_future(load(lambda: generation == self.generation))
            self._loads[key] = future
            future.add_done_callback(lambda done: self._drop(key, done))
        return future

    async def run(self, key: K, load: Callable[[Current], Awaitable[V]]) -> V:
        return await asyncio.shield(self.start(key, load))

    def forget(self, key: K) -> None:
        self.generation += 1
        self._loads.pop(key, None)

    def clear(self) -> None:
        self.generation += 1
        self._loads.clear()

    def _drop(self, key: K, done: asyncio.Future[V]) -> None:
        if self._loads.get(key) is done:  # not a newer load started after `forget`
            del self._loads[key]
