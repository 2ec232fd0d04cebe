"""One bounded cache type for everything we remember about Clerk: verified tokens, client
tokens, memberships.

Each user of it decides its own expiry (a token's `exp`, a 60 s cap, a TTL) and its own
invalidation (by session, by user, by generation); the cache only keeps entries until their own
deadline and forgets the least recently used first, so no stream of distinct keys can grow it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ExpiringLRU(Generic[K, V]):
    """At most `max_entries` values, each until its own deadline on `clock`."""

    def __init__(self, max_entries: int, clock: Callable[[], float]) -> None:
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._max_entries = max_entries
        self._clock = clock

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._clock() >= entry[0]:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: K, value: V, until: float) -> None:
        if self._max_entries <= 0:
            return
        self._entries[key] = (until, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def pop(self, key: K) -> None:
        self._entries.pop(key, None)

    def discard_where(self, predicate: Callable[[V], bool]) -> int:
        """Drops every value the predicate picks (a revoked session, a deleted user)."""
        doomed = [key for key, (_, value) in self._entries.items() if predicate(value)]
        for key in doomed:
            del self._entries[key]
        return len(doomed)
