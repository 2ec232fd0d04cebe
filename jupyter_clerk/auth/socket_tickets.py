"""Single-use tickets for WebSocket URLs, so that session tokens stay out of URLs.

Browsers cannot set headers on a WebSocket, so its credential has to ride in the URL, and URLs
end up in proxy access logs and browser consoles. A ticket is asked for with the session token
in the `Authorization` header (never with the ambient cookie: a cross-site page could then get
one), lives `TICKET_SECONDS`, opens one WebSocket and is gone, so a logged URL is worth
nothing. The token behind it is kept here and verified again when the ticket is used: expiry
and revocation apply exactly as they would to the token itself.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..cache import ExpiringLRU

TICKET_PREFIX = "wst_"
TICKET_SECONDS = 30.0
MAX_TICKETS = 10_000
# Live tickets one session may hold: a tab opens a few sockets at once, never dozens. Without
# a cap, one person asking in a loop would push everyone else's tickets out of the bound.
MAX_TICKETS_PER_SESSION = 32


def _digest(ticket: str) -> bytes:
    return hashlib.sha256(ticket.encode("utf-8", "replace")).digest()


class TooManyTickets(Exception):
    """This session holds as many live tickets as it may."""


@dataclass(frozen=True)
class Ticket:
    token: str
    workspace: str | None  # as the request for it named it (None: the token's own)


class SocketTickets:
    """Tickets in memory, by digest (a memory dump shows no usable ticket), bounded overall
    and per session."""

    def __init__(
        self,
        *,
        ttl: float = TICKET_SECONDS,
        max_tickets: int = MAX_TICKETS,
        per_session: int = MAX_TICKETS_PER_SESSION,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._clock = clock
        self._per_session = per_session
        self._tickets: ExpiringLRU[bytes, Ticket] = ExpiringLRU(max_tickets, clock)
        self._by_session: ExpiringLRU[str, list[bytes]] = ExpiringLRU(max_tickets, clock)

    def issue(self, token: str, session_id: str, workspace: str | None) -> str:
        live = [d for d in self._by_session.get(session_id) or [] if self._tickets.get(d)]
        if len(live) >= self._per_session:
            raise TooManyTickets()
        ticket = TICKET_PREFIX + secrets.token_urlsafe(32)
        until = self._clock() + self._ttl
        self._tickets.put(_digest(ticket), Ticket(token, workspace), until)
        self._by_session.put(session_id, [*live, _digest(ticket)], until)
        return ticket

    def redeem(self, ticket: str) -> Ticket | None:
        """What a ticket stands for, once; None for an unknown, used or expired ticket."""
        key = _digest(ticket)
        found = self._tickets.get(key)
        if found is not None:
            self._tickets.pop(key)
        return found
