"""Backend API faults on demand: the outages, slow answers and rate limits that real Clerk
produces on its own schedule, queued by tests so a client's handling of each can be proved.

Every authenticated Backend API request is also recorded, so tests and benchmarks can count
how many calls a piece of the product really made.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Call:
    """One Backend API request the instance served, as recorded for tests and benchmarks."""

    method: str
    path: str
    api_version: str | None


@dataclass(frozen=True)
class Fault:
    """What one matching request gets instead of (or before) its normal answer."""

    status: int | None = None  # an error status to answer with; None answers normally
    delay: float = 0.0  # seconds to wait before answering
    retry_after: float | None = None  # a Retry-After header on the error
    path: re.Pattern[str] | None = None  # only requests whose path matches; None: any


class FaultPlan:
    """Queued faults, each consumed by the first request it matches, in queue order."""

    def __init__(self) -> None:
        self._queue: deque[Fault] = deque()
        self.calls: list[Call] = []

    def fail(self, status: int = 503, *, times: int = 1, path: str | None = None) -> None:
        """The next `times` matching requests answer with `status`."""
        self._add(Fault(status=status, path=_compile(path)), times)

    def delay(self, seconds: float, *, times: int = 1, path: str | None = None) -> None:
        """The next `times` matching requests answer normally, `seconds` late."""
        self._add(Fault(delay=seconds, path=_compile(path)), times)

    def rate_limit(
        self, retry_after: float | None = 1, *, times: int = 1, path: str | None = None
    ) -> None:
        """The next `times` matching requests get 429 with `Retry-After: retry_after`."""
        self._add(Fault(status=429, retry_after=retry_after, path=_compile(path)), times)

    def clear(self) -> None:
        self._queue.clear()

    def calls_to(self, path_pattern: str) -> int:
        """How many recorded requests had a path matching `path_pattern`."""
        pattern = re.compile(path_pattern)
        return sum(1 for call in self.calls if pattern.search(call.path))

    def take(self, call: Call) -> Fault | None:
        """Record a request and hand back the first queued fault that applies to it."""
        self.calls.append(call)
        path = call.path
        for fault in self._queue:
            if fault.path is None or fault.path.search(path):
                self._queue.remove(fault)
                return fault
        return None

    def _add(self, fault: Fault, times: int) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        self._queue.extend([fault] * times)


def _compile(path: str | None) -> re.Pattern[str] | None:
    return re.compile(path) if path is not None else None
