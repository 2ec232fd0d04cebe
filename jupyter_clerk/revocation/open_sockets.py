"""Open WebSockets by the Clerk session, user and organization that opened them.

A WebSocket is authenticated once, at the upgrade; a session token's 60 s lifetime does not
reach a socket that stays open for hours. So every authenticated upgrade is tracked here, and
revocation (a webhook, or the periodic check below) closes the sockets it concerns.

Without webhooks, the sessions behind open sockets are re-checked every
`interval` seconds with `GET /v1/sessions/{id}`; a session no longer `active` closes them.
The memberships of people holding organization sockets are re-checked in the same round
(one lookup per person at most, none while the membership cache's answer is fresh): a member
removed from the organization loses those sockets, and one whose role there no longer grants
what a socket needs (running code, for kernels and terminals) loses that socket. A viewer's
events stream needs only reading: it stays, and nothing of theirs is refused.
An unreachable Clerk closes nothing: the check fails open for sockets, like the keys cache.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from ..clerk_api.client import BackendAPIError, NotFound, request_budget
from ..clerk_api.client_tokens import TokenBucket
from ..clerk_api.memberships import MembershipCache, MembershipsUnavailable
from ..clerk_api.models import Membership, Session

log = logging.getLogger(__name__)

T = TypeVar("T")

_RANDOM = random.SystemRandom()  # jitter only; the linter cannot tell

# 1008: policy violation, what RFC 6455 suggests when access is withdrawn.
CLOSE_CODE = 1008


@dataclass(frozen=True)
class SocketOwner:
    user_id: str
    session_id: str
    organization_id: str | None
    # What the socket needs its owner to keep being granted there ("execute" for kernels and
    # terminals, "read" for the events stream), as far as it was granted when it opened.
    needs: frozenset[str] = frozenset()


class OpenSockets:
    """Weakly held open WebSocket handlers; a closed or collected one just disappears.

    Indexed by session, user and organization, so closing one session's sockets costs what
    that session has open, not what the whole server has open.
    """

    def __init__(self) -> None:
        self._sockets: weakref.WeakKeyDictionary[Any, SocketOwner] = weakref.WeakKeyDictionary()
        self._index: dict[tuple[str, str], weakref.WeakSet[Any]] = {}
        # Why each handler was closed: one still upgrading ignores `close`, so its `open`
        # asks here (see revocation.upgrades).
        self._closed: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()

    def __len__(self) -> int:
        return len(self._sockets)

    def track(self, handler: Any, owner: SocketOwner) -> None:
        self._sockets[handler] = owner
        for tag in owner_tags(owner):
            self._index.setdefault(tag, weakref.WeakSet()).add(handler)

    def session_ids(self) -> list[str]:
        """Sessions with a socket still open (forgetting those whose sockets are all gone)."""
        for tag in [tag for tag, handlers in self._index.items() if not handlers]:
            del self._index[tag]
        return [value for kind, value in self._index if kind == "session"]

    def organizations_by_person(self) -> dict[str, dict[str, frozenset[str]]]:
        """Who holds organization sockets, in which organizations, needing what there."""
        held: dict[str, dict[str, frozenset[str]]] = {}
        for owner in list(self._sockets.values()):
            if owner.organization_id is not None:
                needs = held.setdefault(owner.user_id, {})
                org = owner.organization_id
                needs[org] = needs.get(org, frozenset()) | owner.needs
        return held

    def close_tagged(self, tag: tuple[str, str], reason: str) -> int:
        """Closes the sockets of one session, user or organization; returns how many."""
        return self._close(list(self._index.get(tag, ())), reason)

    def holds(self, user_id: str, organization_id: str) -> bool:
        """Whether the user has a socket open in that organization (looks at theirs only)."""
        return any(
            self._sockets.get(handler, _GONE).organization_id == organization_id
            for handler in list(self._index.get(("user", user_id), ()))
        )

    def close_tagged_where(
        self, tag: tuple[str, str], predicate: Callable[[SocketOwner], bool], reason: str
    ) -> int:
        """Closes those of one tag's sockets whose owner matches (a user's, in one org)."""
        handlers = list(self._index.get(tag, ()))
        return self._close([h for h in handlers if predicate(self._sockets.get(h, _GONE))], reason)

    def forget(self, handler: Any) -> bool:
        """Stops tracking a handler (its upgrade was refused); whether it was tracked."""
        owner = self._sockets.pop(handler, None)
        if owner is None:
            return False
        for tag in owner_tags(owner):
            handlers = self._index.get(tag)
            if handlers is not None:
                handlers.discard(handler)
                if not handlers:
                    del self._index[tag]
        return True

    def closed_for(self, handler: Any) -> str | None:
        """Why revocation closed this handler, if it did."""
        return self._closed.get(handler)

    def _close(self, doomed: list[Any], reason: str) -> int:
        closed = 0
        for handler in doomed:
            if not self.forget(handler):
                continue  # already closed through another of its tags
            self._closed[handler] = reason
            closed += 1
            try:
                handler.close(CLOSE_CODE, reason)
            except Exception:  # one broken socket must not keep the others open
                log.exception("Could not close a revoked WebSocket")
        return closed


_GONE = SocketOwner("", "", None)


def owner_tags(owner: SocketOwner) -> list[tuple[str, str]]:
    tags = [("session", owner.session_id), ("user", owner.user_id)]
    if owner.organization_id is not None:
        tags.append(("organization", owner.organization_id))
    return tags


Grants = Callable[[Membership], frozenset[str]]


def granted_in(
    memberships: dict[str, Membership], organization_id: str, grants: Grants
) -> frozenset[str] | None:
    """What a fresh read of someone's memberships leaves them in one organization (None: not
    a member any more), for `membership_lost` to close the sockets needing more."""
    membership = memberships.get(organization_id)
    return None if membership is None else grants(membership)


@dataclass(frozen=True)
class MembershipCheck:
    """How the revalidator re-checks organization sockets: the cache it reads memberships
    through, what a membership lets its holder do, and what a loss does: `on_lost(user,
    organization, still_granted)`, with None when the membership is gone (`membership_lost`:
    refuse the person's older tokens there, close the sockets needing more than is left)."""

    cache: MembershipCache
    grants: Grants
    on_lost: Callable[[str, str, frozenset[str] | None], int]


class SessionRevalidator:
    """Every `interval` seconds (± jitter), ends the sessions Clerk no longer has active, and
    the organization sockets of people no longer granted there what those sockets need.

    A round asks about each session behind an open socket once, then about the memberships of
    each person holding organization sockets once, `concurrency` calls at a time and at most
    `calls_per_second` (the share of Clerk's rate limit given to polling), so thousands of
    sessions neither take sessions × round-trip nor burst past Clerk's limit. The budget
    counts HTTP requests, as Clerk does: each one the round causes (retries, pages and waited-out
    429s included) waits for it (`request_budget`); `calls` counts them.
    """

    def __init__(
        self,
        sockets: OpenSockets,
        get_session: Callable[[str], Awaitable[Session]],
        interval: float,
        *,
        on_ended: Callable[[str, str], int] | None = None,
        memberships: MembershipCheck | None = None,
        calls_per_second: float = 20.0,
        concurrency: int = 8,
        jitter: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._sockets = sockets
        self._sleep = sleep
        self._get_session = get_session
        self.interval = interval
        self._on_ended = on_ended or (
            lambda sid, status: sockets.close_tagged(("session", sid), f"Clerk session {status}")
        )
        self._memberships = memberships
        self._budget = TokenBucket(calls_per_second, max(1.0, calls_per_second), clock)
        self._concurrency = max(1, concurrency)
        self._jitter = jitter
        self._task: asyncio.Task[None] | None = None
        self.calls = 0

    def webhooks_configured(self, backoff: float = 6.0) -> None:
        """Webhooks report revocations at once: polling is only a safety net, done less often."""
        self.interval *= backoff

    def ensure_running(self) -> None:
        """Started lazily from the first tracked socket, so it runs in the server's loop."""
        if self.interval > 0 and (self._task is None or self._task.done()):
            self._task = asyncio.ensure_future(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def check_now(self) -> int:
        """One pass over the open sockets' sessions, then over the memberships of those still
        open in organizations; returns how many sockets were closed."""
        budget = request_budget.set(self._spend_budget)
        try:
            closed = await self._each(self._sockets.session_ids(), self._check_session)
            if self._memberships is not None:
                check = self._memberships
                people = self._sockets.organizations_by_person().items()
                closed += await self._each(people, lambda person: self._check_person(check, person))
        finally:
            request_budget.reset(budget)
        return closed

    async def _each(self, items: Iterable[T], check: Callable[[T], Awaitable[int]]) -> int:
        pending = iter(items)
        closed = 0

        async def worker() -> None:
            nonlocal closed
            for item in pending:  # shared: each item goes to exactly one worker
                count = await check(item)  # not `closed += await`: that reads before awaiting
                closed += count

        await asyncio.gather(*(worker() for _ in range(self._concurrency)))
        return closed

    async def _spend_budget(self) -> None:
        self.calls += 1
        while wait := self._budget.take():
            await self._sleep(wait)

    async def _check_session(self, session_id: str) -> int:
        try:
            status = (await self._get_session(session_id)).status
        except NotFound:
            status = "removed"
        except BackendAPIError as exc:  # outage or refusal: keep the socket, retry later
            log.info("Could not re-check a session of an open WebSocket: %s", exc)
            return 0
        return self._on_ended(session_id, status) if status != "active" else 0

    async def _check_person(
        self, check: MembershipCheck, person: tuple[str, dict[str, frozenset[str]]]
    ) -> int:
        user_id, needs_by_organization = person
        memberships = check.cache.fresh(user_id)
        if memberships is None:
            try:
                memberships = await check.cache.reload(user_id)
            except MembershipsUnavailable:  # outage or 429: keep the sockets, retry later
                log.info("Could not re-check the memberships of a person with open WebSockets")
                return 0
        closed = 0
        for organization_id, needs in needs_by_organization.items():
            granted = granted_in(memberships, organization_id, check.grants)
            # Gone, or lost something an open socket needs; else nothing is refused.
            if granted is None or not needs <= granted:
                closed += check.on_lost(user_id, organization_id, granted)
        return closed

    async def _run(self) -> None:
        while len(self._sockets):
            await asyncio.sleep(self.interval * _RANDOM.uniform(1 - self._jitter, 1 + self._jitter))
            try:
                await self.check_now()
            except Exception:  # a bug in one round must not end revalidation for good
                log.exception("A revalidation round failed; the next one runs as planned")
