"""Open WebSockets by the Clerk session, user and organization that opened them.

A WebSocket is authenticated once, at the upgrade; a session token's 60 s lifetime does not
reach a socket that stays open for hours. So every authenticated upgrade is tracked here, and
revocation (a webhook, or the periodic check below) closes the sockets it concerns.

Without webhooks, the sessions behind open sockets are re-checked every
`interval` seconds with `GET /v1/sessions/{id}`; a session no longer `active` closes them.
An unreachable Clerk closes nothing: the check fails open for sockets, like the keys cache.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..clerk_api.client import BackendAPIError, NotFound
from ..clerk_api.models import Session

log = logging.getLogger(__name__)

# 1008: policy violation, what RFC 6455 suggests when access is withdrawn.
CLOSE_CODE = 1008


@dataclass(frozen=True)
class SocketOwner:
    user_id: str
    session_id: str
    organization_id: str | None


class OpenSockets:
    """Weakly held open WebSocket handlers; a closed or collected one just disappears."""

    def __init__(self) -> None:
        self._sockets: weakref.WeakKeyDictionary[Any, SocketOwner] = weakref.WeakKeyDictionary()

    def __len__(self) -> int:
        return len(self._sockets)

    def track(self, handler: Any, owner: SocketOwner) -> None:
        self._sockets[handler] = owner

    def session_ids(self) -> set[str]:
        return {owner.session_id for owner in list(self._sockets.values())}

    def close_where(self, predicate: Callable[[SocketOwner], bool], reason: str) -> int:
        """Close every tracked socket whose owner matches; returns how many."""
        doomed = [h for h, owner in list(self._sockets.items()) if predicate(owner)]
        for handler in doomed:
            self._sockets.pop(handler, None)
            try:
                handler.close(CLOSE_CODE, reason)
            except Exception:  # one broken socket must not keep the others open
                log.exception("Could not close a revoked WebSocket")
        return len(doomed)


class SessionRevalidator:
    """Every `interval` seconds, closes the sockets of sessions Clerk no longer has active."""

    def __init__(
        self,
        sockets: OpenSockets,
        get_session: Callable[[str], Awaitable[Session]],
        interval: float,
    ) -> None:
        self._sockets = sockets
        self._get_session = get_session
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def ensure_running(self) -> None:
        """Started lazily from the first tracked socket, so it runs in the server's loop."""
        if self._interval > 0 and (self._task is None or self._task.done()):
            self._task = asyncio.ensure_future(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def check_now(self) -> int:
        """One pass over the open sockets' sessions; returns how many sockets were closed."""
        closed = 0
        for session_id in self._sockets.session_ids():
            try:
                status = (await self._get_session(session_id)).status
            except NotFound:
                status = "removed"
            except BackendAPIError as exc:  # outage or refusal: keep the socket, retry later
                log.info("Could not re-check a session of an open WebSocket: %s", exc)
                continue
            if status != "active":
                closed += self._sockets.close_where(
                    lambda owner, sid=session_id: owner.session_id == sid,
                    f"Clerk session {status}",
                )
        return closed

    async def _run(self) -> None:
        while len(self._sockets):
            await asyncio.sleep(self._interval)
            await self.check_now()
