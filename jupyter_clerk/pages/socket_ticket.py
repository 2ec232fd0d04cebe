"""`POST /clerk/api/socket-ticket`: a single-use ticket for the next WebSocket URL.

Only for a token sent in the `Authorization` header: the cookie is ambient, and a ticket
counts as an explicit credential (no Origin check), so a cookie-authenticated request that
could get one would let any site open WebSockets as the person.
"""

from __future__ import annotations

from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..auth.credentials import Source, extract_credential
from ..auth.socket_tickets import TICKET_SECONDS, TooManyTickets
from ..workspaces.resolution import requested_workspace


class SocketTicketHandler(APIHandler):
    @web.authenticated
    def post(self) -> None:
        credential = extract_credential(self.request)
        tickets = getattr(self.identity_provider, "socket_tickets", None)
        if credential is None or credential.source is not Source.HEADER or tickets is None:
            raise web.HTTPError(403, "A WebSocket ticket needs the session token in the header.")
        # Bound to the workspace this request named: the socket must name the same one.
        workspace = requested_workspace(self.request)
        try:
            ticket = tickets.issue(credential.token, self.current_user.session_id, workspace)
        except TooManyTickets:
            self.set_header("Retry-After", str(int(TICKET_SECONDS)))
            raise web.HTTPError(429, "Too many WebSocket tickets at once; try again.") from None
        self.set_header("Cache-Control", "no-store")
        self.finish({"ticket": ticket, "expires_in": TICKET_SECONDS})
