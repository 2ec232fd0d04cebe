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

from ..cache import ExpiringLRU

TICKET_PREFIX = "wst_"
TICKET_SECONDS = 30.0
MAX_TICKETS = 10_000


def _digest(ticket: str) -> bytes:
    return hashlib.sha256(ticket.encode("utf-8", "replace")).digest()


class SocketTickets:
    """Tickets in memory, by digest (a memory dump shows no usable ticket), bounded."""

    def __init__(
        self,
        *,
        ttl: float = TICKET_SECONDS,
        max_tickets: int = MAX_TICKETS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._clock = clock
        self._tickets: ExpiringLRU[bytes, str] = ExpiringLRU(max_tickets, clock)

    def issue(self, token: str) -> str:
        ticket = TICKET_PREFIX + secrets.token_urlsafe(32)
        self._tickets.put(_digest(ticket), token, self._clock() + self._ttl)
        return ticket

    def redeem(self, ticket: str) -> str | None:
        """The token behind a ticket, once; None for an unknown, used or expired ticket."""
        key = _digest(ticket)
        token = self._tickets.get(key)
        if token is not None:
            self._tickets.pop(key)
        return token
