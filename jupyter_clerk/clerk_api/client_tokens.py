"""Clerk client tokens from non-browser callers, resolved to one session through the Backend API.

Routing: a bearer token whose (unverified) payload has a `sid` claim is a session token and is
only ever verified as one; a compact JWS without `sid` is a client token (Clerk's `__client`
JWT) and is only ever resolved with `POST /v1/clients/verify`. Either path verifies fully, so
reading the payload unverified to route can at worst send a token to a path that refuses it.

A client can hold several signed-in sessions of different people (multi-session mode), so
the session is chosen by `last_active_session_id` and status, never `sessions[0]`.

Resolution is cached by a digest of the whole token, at most 60 s, one call in flight per
token; refusals are cached briefly; and calls for tokens not in the cache draw from a token
bucket, so a flood of random tokens cannot turn into a flood of Backend API calls.
"""

from __future__ import annotations

import base64
import binascii
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from ..auth.claims import Organization
from ..auth.tokens import split_token, strict_json, token_digest
from ..cache import Current, ExpiringLRU, SingleFlight
from ..errors import TokenError
from .client import BackendAPIError, BackendUnavailable, RateLimited
from .models import Client, Membership, Session

MAX_TTL = 60.0
# Organization permissions Clerk leaves out of session tokens: a client-token user must look
# exactly like a session-token user of the same session.
_SYSTEM_PERMISSION_PREFIX = "org:sys_"

VerifyClient = Callable[[str], Awaitable[Client]]
MembershipOf = Callable[[str, str], Awaitable[Membership | None]]


class ClientTokensUnavailable(Exception):
    """Clerk cannot resolve client tokens right now (outage, rate limit, or our own bound on
    calls for unknown tokens): answer 503 with Retry-After, never 401."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"client tokens cannot be resolved now; retry in {retry_after:.0f} s")
        self.retry_after = retry_after


def is_client_token(token: str) -> bool:
    """A compact JWS whose payload has no `sid` (unverified: for routing only)."""
    try:
        _, segments = split_token(token)
        payload = strict_json(base64.urlsafe_b64decode(segments[1] + "=" * (-len(segments[1]) % 4)))
    except (TokenError, binascii.Error, ValueError):
        return False
    return "sid" not in payload


def choose_session(client: Client) -> Session:
    """The session a client token speaks for.

    The client's last active session if it is signed in; otherwise its most recently active
    `active` session. A chosen `pending` session has unfinished tasks and is refused (we do
    not fall back past it to somebody else's session).
    """
    last = next((s for s in client.sessions if s.id == client.last_active_session_id), None)
    if last is not None and last.status in ("active", "pending"):
        chosen = last
    else:
        active = [s for s in client.sessions if s.status == "active"]
        if not active:
            raise TokenError("client-no-active-session", "the client has no active session")
        chosen = max(active, key=lambda s: s.last_active_at)
    if chosen.status == "pending":
        raise TokenError("session-pending", "the client's session has pending tasks")
    return chosen


def organization_of(membership: Membership) -> Organization:
    return Organization(
        id=membership.organization_id,
        slug=membership.organization_slug,
        role=membership.role,
        permissions=frozenset(
            p for p in membership.permissions if not p.startswith(_SYSTEM_PERMISSION_PREFIX)
        ),
    )


class TokenBucket:
    """At most `rate` events per second on average, bursts up to `burst`."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float]) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self._rate, self._burst, self._clock = rate, burst, clock
        self._tokens, self._at = burst, clock()

    def take(self) -> float:
        """0 if an event may happen now (and counts it), else the seconds until one may."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens >= 1 - 1e-9:  # rounding must not leave a waiter short forever
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self._rate


@dataclass(frozen=True)
class _Entry:
    expires_at: float
    session: Session | None
    refusal: TokenError | None


def _entry_tags(entry: _Entry) -> list[tuple[str, str]]:
    session = entry.session
    if session is None:
        return []
    tags = [("session", session.id), ("user", session.user_id)]
    if session.last_active_organization_id is not None:
        tags.append(("organization", session.last_active_organization_id))
    return tags


class ClientTokenResolver:
    """Client token → chosen session, cached by token digest with every bound described above."""

    def __init__(
        self,
        verify_client: VerifyClient,
        *,
        ttl: float = MAX_TTL,
        negative_ttl: float = 10.0,
        max_entries: int = 10_000,
        verify_rate: float = 10.0,
        verify_burst: float = 20.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 <= ttl <= MAX_TTL or not 0 <= negative_ttl <= MAX_TTL:
            raise ValueError(f"client-token cache lifetimes must be between 0 and {MAX_TTL:g} s")
        self._verify_client = verify_client
        self._ttl, self._negative_ttl = ttl, negative_ttl
        self._clock = clock
        self._bucket = TokenBucket(verify_rate, verify_burst, clock)
        # Expires after the TTL, never past the session's own expiry; revocation drops a
        # session's or a user's entries; refusals are remembered briefly too.
        self._entries: ExpiringLRU[bytes, _Entry] = ExpiringLRU(max_entries, clock, _entry_tags)
        self._loads: SingleFlight[bytes, Session] = SingleFlight()

    def __len__(self) -> int:
        return len(self._entries)

    async def resolve(self, token: str) -> Session:
        digest = token_digest(token)
        entry = self._entries.get(digest)
        if entry is not None:
            if entry.refusal is not None:
                raise TokenError(entry.refusal.reason, entry.refusal.detail)
            return entry.session  # type: ignore[return-value]
        if digest not in self._loads:
            wait = self._bucket.take()
            if wait:
                raise ClientTokensUnavailable(max(1.0, math.ceil(wait)))
        return await self._loads.run(digest, partial(self._load, digest, token))

    def discard_tagged(self, tag: tuple[str, str]) -> int:
        """Drops the cached sessions of one session, user or organization; returns how many.
        Lookups under way may have read the session before it ended: they store nothing."""
        self._loads.clear()
        return self._entries.discard_tagged(tag)

    async def _load(self, digest: bytes, token: str, current: Current) -> Session:
        try:
            client = await self._verify_client(token)
            session = choose_session(client)
        except RateLimited as exc:
            raise ClientTokensUnavailable(max(1.0, exc.retry_after or 1.0)) from None
        except BackendUnavailable:
            raise ClientTokensUnavailable(1.0) from None
        except BackendAPIError:
            refusal = TokenError("client-token-invalid", "Clerk does not know this client")
            self._store(digest, _Entry(self._clock() + self._negative_ttl, None, refusal))
            raise refusal from None
        except TokenError as exc:
            self._store(digest, _Entry(self._clock() + self._negative_ttl, None, exc))
            raise
        # Never trusted past the session's own expiry.
        remaining = session.expire_at / 1000 - time.time()
        if current():
            self._store(digest, _Entry(self._clock() + min(self._ttl, remaining), session, None))
        return session

    def _store(self, digest: bytes, entry: _Entry) -> None:
        self._entries.put(digest, entry, entry.expires_at)
