"""What only the Frontend API keeps: sign-in attempts in progress and dev browsers.

A sign-in attempt belongs to one client; it completes by creating a session on that client.
A dev browser is Clerk's stand-in for the `__client` cookie on development domains: clerk-js
sends its token as `__clerk_db_jwt` on every call, so it must be as unguessable as a cookie.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .ids import is_clerk_id, new_id
from .state import now_ms

SignInStatus = Literal["needs_first_factor", "complete"]
# How long an unfinished sign-in attempt may be resumed (Clerk abandons them too).
SIGN_IN_ABANDON_MS = 24 * 60 * 60 * 1000
DEMO_PASSWORD = "jupyter-demo"  # noqa: S105 (the development instance's published demo password)


@dataclass
class SignInAttempt:
    id: str
    client_id: str
    user_id: str
    identifier: str
    status: SignInStatus = "needs_first_factor"
    created_session_id: str | None = None
    abandon_at: int = field(default_factory=lambda: now_ms() + SIGN_IN_ABANDON_MS)


@dataclass
class FrontendState:
    """`password` is every demo person's password (development instances only)."""

    password: str = DEMO_PASSWORD
    sign_ins: dict[str, SignInAttempt] = field(default_factory=dict)
    dev_browsers: dict[str, str] = field(default_factory=dict)  # token -> client id

    def start_sign_in(self, client_id: str, user_id: str, identifier: str) -> SignInAttempt:
        attempt = SignInAttempt(new_id("sia"), client_id, user_id, identifier)
        self.sign_ins[attempt.id] = attempt
        return attempt

    def sign_in_of(self, client_id: str, sign_in_id: str) -> SignInAttempt | None:
        """The client's own unexpired attempt; another client's id finds nothing."""
        attempt = self.sign_ins.get(sign_in_id) if is_clerk_id(sign_in_id, "sia") else None
        if attempt is None or attempt.client_id != client_id or now_ms() >= attempt.abandon_at:
            return None
        return attempt

    def new_dev_browser(self, client_id: str) -> str:
        token = new_id("dvb")
        self.dev_browsers[token] = client_id
        return token
