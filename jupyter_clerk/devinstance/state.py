"""Sessions and clients, in memory, with Clerk's fields and status transitions.

A client is one browser (or device); it can hold several signed-in sessions at once (Clerk's
multi-session mode) and remembers which one was used last, which is what non-browser
callers must pick, never simply the first.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, get_args

from .data import DirectoryData
from .errors import not_a_member, not_found, session_not_active
from .ids import is_clerk_id, new_id

SessionStatus = Literal[
    "active", "pending", "ended", "revoked", "expired", "removed", "abandoned", "replaced"
]
SESSION_STATUSES: tuple[str, ...] = get_args(SessionStatus)
# Statuses for which Clerk still issues session tokens (`pending` ones carry `sts: pending`).
SIGNED_IN_STATUSES = ("active", "pending")

_DAY_MS = 24 * 60 * 60 * 1000
SESSION_LIFETIME_MS = 7 * _DAY_MS  # Clerk's default maximum session lifetime
INACTIVITY_TIMEOUT_MS = 30 * _DAY_MS


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Session:
    id: str
    user_id: str
    client_id: str
    status: SessionStatus
    last_active_organization_id: str | None
    last_active_at: int
    expire_at: int
    abandon_at: int
    created_at: int
    updated_at: int

    @property
    def signed_in(self) -> bool:
        return self.status in SIGNED_IN_STATUSES


@dataclass
class Client:
    id: str
    session_ids: list[str] = field(default_factory=list)
    last_active_session_id: str | None = None
    # The nonce inside the client's `__client` token; replacing it invalidates old tokens.
    rotating_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    created_at: int = field(default_factory=now_ms)
    updated_at: int = field(default_factory=now_ms)


class SessionStore:
    """All sessions and clients of the instance; every change goes through a method here."""

    def __init__(self, data: DirectoryData) -> None:
        self._data = data
        self._sessions: dict[str, Session] = {}
        self._clients: dict[str, Client] = {}
        # Called with each session that stopped being signed in (webhooks are sent from it).
        self.on_signed_out: Callable[[Session], None] | None = None

    def sign_in(
        self,
        user_id: str,
        *,
        client_id: str | None = None,
        organization_id: str | None = None,
        status: SessionStatus = "active",
    ) -> Session:
        """Create a session for `user_id` on a client (a new client unless one is named)."""
        if user_id not in self._data.users:
            raise not_found(f"No user was found with id {user_id}")
        if status not in SESSION_STATUSES:
            raise ValueError(f"unknown session status {status!r}")
        if organization_id is not None:
            self._require_membership(user_id, organization_id)
        client = self.client(client_id) if client_id else self.new_client()
        now = now_ms()
        session = Session(
            id=new_id("sess"),
            user_id=user_id,
            client_id=client.id,
            status=status,
            last_active_organization_id=organization_id,
            last_active_at=now,
            expire_at=now + SESSION_LIFETIME_MS,
            abandon_at=now + INACTIVITY_TIMEOUT_MS,
            created_at=now,
            updated_at=now,
        )
        self._sessions[session.id] = session
        client.session_ids.append(session.id)
        client.last_active_session_id = session.id
        client.updated_at = now
        return session

    def session(self, session_id: str) -> Session:
        session = self._sessions.get(session_id) if is_clerk_id(session_id, "sess") else None
        if session is None:
            raise not_found(f"No session was found with id {session_id}")
        if session.signed_in and now_ms() >= session.expire_at:
            self._set_status(session, "expired")
        return session

    def client(self, client_id: str) -> Client:
        client = self._clients.get(client_id) if is_clerk_id(client_id, "client") else None
        if client is None:
            raise not_found(f"No client was found with id {client_id}")
        return client

    def sessions_of(self, client: Client) -> list[Session]:
        return [self.session(sid) for sid in client.session_ids]

    def last_active_session(self, client: Client) -> Session | None:
        """The client's last active session, if it is still signed in."""
        if client.last_active_session_id is None:
            return None
        session = self.session(client.last_active_session_id)
        return session if session.signed_in else None

    def set_active_organization(self, session_id: str, organization_id: str | None) -> Session:
        """Clerk's `setActive({organization})`: only to an organization the user belongs to."""
        session = self.require_signed_in(session_id)
        if organization_id is not None:
            self._require_membership(session.user_id, organization_id)
        session.last_active_organization_id = organization_id
        return self.activate(session_id)

    def activate(self, session_id: str) -> Session:
        """Make a signed-in session its client's last active one (Clerk's `setActive`)."""
        session = self.require_signed_in(session_id)
        session.last_active_at = session.updated_at = now_ms()
        self.client(session.client_id).last_active_session_id = session.id
        return session

    def require_signed_in(self, session_id: str) -> Session:
        session = self.session(session_id)
        if not session.signed_in:
            raise session_not_active(session_id, session.status)
        return session

    def end(self, session_id: str) -> Session:
        """The user signed out of this session."""
        return self._finish(session_id, "ended")

    def revoke(self, session_id: str) -> Session:
        """An administrator (or the Backend API) signed the session out."""
        return self._finish(session_id, "revoked")

    def remove(self, session_id: str) -> Session:
        """The user removed the session from a multi-session client."""
        return self._finish(session_id, "removed")

    def end_client(self, client_id: str) -> list[Session]:
        """Sign out of every session on a client (Clerk's default `signOut()`)."""
        client = self.client(client_id)
        return [self.end(s.id) for s in self.sessions_of(client) if s.signed_in]

    def _finish(self, session_id: str, status: SessionStatus) -> Session:
        session = self.session(session_id)
        if session.signed_in:
            self._set_status(session, status)
        return session

    def _set_status(self, session: Session, status: SessionStatus) -> None:
        was_signed_in = session.signed_in
        session.status = status
        session.updated_at = now_ms()
        client = self._clients[session.client_id]
        if client.last_active_session_id == session.id and status not in SIGNED_IN_STATUSES:
            live = [
                sid
                for sid in client.session_ids
                if self._sessions[sid].status in SIGNED_IN_STATUSES
            ]
            client.last_active_session_id = live[-1] if live else None
        client.updated_at = session.updated_at
        if was_signed_in and not session.signed_in and self.on_signed_out is not None:
            self.on_signed_out(session)

    def new_client(self) -> Client:
        """A browser's first call that needs one (a sign-in attempt, a dev browser)."""
        client = Client(id=new_id("client"))
        self._clients[client.id] = client
        return client

    def _require_membership(self, user_id: str, organization_id: str) -> None:
        if organization_id not in self._data.organizations:
            raise not_found(f"No organization was found with id {organization_id}")
        if self._data.membership(user_id, organization_id) is None:
            raise not_a_member(organization_id)
