"""Which credential a request presents, and whether it may count as "token authenticated".

Order: the `Authorization: Bearer` header, then the `ticket` and `token` query parameters
(WebSocket upgrades only: browsers cannot set headers there; a ticket is a single-use stand-in
for a token, see `socket_tickets.py`), then Clerk's `__session` cookie. The first one present
is the only one used, so a request is never merged across two users. All but the cookie are
explicit: a cookie is ambient, so it must keep Jupyter's XSRF and Origin checks (cross-site
WebSocket hijacking).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from tornado.httputil import HTTPServerRequest

SESSION_COOKIE = "__session"


class Source(enum.Enum):
    HEADER = "header"
    TICKET = "ticket"
    QUERY = "query"
    COOKIE = "cookie"

    @property
    def explicit(self) -> bool:
        return self is not Source.COOKIE


@dataclass(frozen=True)
class Credential:
    token: str
    source: Source

    def __repr__(self) -> str:  # a credential never reaches a log line by accident
        return f"Credential(source={self.source.value}, token=<redacted>)"


def is_websocket_upgrade(request: HTTPServerRequest) -> bool:
    """A real upgrade: both headers, as RFC 6455 requires (a plain GET must not carry
    credentials in its URL just by adding one header)."""
    connection = {t.strip().lower() for t in request.headers.get("Connection", "").split(",")}
    return (
        request.method == "GET"
        and request.headers.get("Upgrade", "").lower() == "websocket"
        and "upgrade" in connection
    )


def bearer_token(request: HTTPServerRequest) -> str | None:
    """The token of an `Authorization: Bearer` header; Jupyter's `token` scheme is not ours."""
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def extract_credential(request: HTTPServerRequest) -> Credential | None:
    token = bearer_token(request)
    if token is not None:
        return Credential(token, Source.HEADER)
    if is_websocket_upgrade(request):
        for name, source in (("ticket", Source.TICKET), ("token", Source.QUERY)):
            values = request.query_arguments.get(name, [])
            if values:
                # Two in one URL is ambiguous: present neither, so the request is refused.
                value = values[0].decode("utf-8", "replace") if len(values) == 1 else ""
                return Credential(value, source)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is not None and cookie.value:
        return Credential(cookie.value, Source.COOKIE)
    return None
