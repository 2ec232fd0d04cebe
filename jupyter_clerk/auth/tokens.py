"""Verification of Clerk session tokens, stricter than Clerk's SDKs where they are lenient.

Order matters: size and header grammar first (cheap, nothing trusted yet), then the signature
with the algorithm pinned (PyJWT's RS256 over our own strict parse of the segments), and only
then the payload's strict JSON and its claims. Verified results are cached by a digest
of the whole token, so a claim that is missing can never make two tokens share an entry.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from jwt.algorithms import RSAAlgorithm

from ..cache import ExpiringLRU
from ..errors import TokenError
from .claims import SessionClaims, parse_session_claims
from .encoding import b64url_decode, strict_json
from .jose_header import check_header
from .keys import KeySource

MAX_TOKEN_BYTES = 8 * 1024
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")


def token_digest(token: str) -> bytes:
    """The cache identity of a credential: all of it, never one of its claims."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def split_token(token: object) -> tuple[dict[str, Any], list[str]]:
    """Checks the shape of a compact JWS and returns its parsed header and segments."""
    if not isinstance(token, str) or not token.isascii():
        raise TokenError("token-invalid", "not a JWT")
    if len(token) > MAX_TOKEN_BYTES:
        raise TokenError("token-invalid", "token is larger than 8 KiB")
    segments = token.split(".")
    if len(segments) != 3 or not all(_SEGMENT.fullmatch(s) for s in segments):
        raise TokenError("token-invalid", "not a compact JWS")
    return strict_json(b64url_decode(segments[0])), segments


class SessionTokenVerifier:
    """Verifies one Clerk instance's session tokens."""

    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str,
        authorized_parties: Iterable[str] | None,
        leeway: float = 5.0,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._parties = frozenset(authorized_parties) if authorized_parties else None
        self._leeway = leeway
        self._clock = clock
        self._rs256 = RSAAlgorithm(RSAAlgorithm.SHA256)
        # Expires at exp + leeway; revocation drops a session's or a user's entries.
        self.cache: ExpiringLRU[bytes, SessionClaims] = ExpiringLRU(cache_size, clock)

    # Read-only views of what is trusted, for `jupyter clerk check`.
    @property
    def keys(self) -> KeySource:
        return self._keys

    @property
    def issuer(self) -> str:
        return self._issuer

    @property
    def authorized_parties(self) -> list[str] | None:
        return sorted(self._parties) if self._parties is not None else None

    def cached(self, token: str) -> SessionClaims | None:
        """The claims of a token verified before and not yet expired: the hot path."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_BYTES:
            return None
        return self.cache.get(token_digest(token))

    async def verify(self, token: str) -> SessionClaims:
        cached = self.cached(token)
        if cached is not None:
            return cached
        header, (header_b64, payload_b64, signature_b64) = split_token(token)
        check_header(header)
        key = await self._keys.get_key(header.get("kid"))
        signing_input = f"{header_b64}.{payload_b64}".encode("ascii")
        if not self._rs256.verify(signing_input, key, b64url_decode(signature_b64)):
            raise TokenError("token-invalid-signature", "signature does not verify")
        claims = parse_session_claims(strict_json(b64url_decode(payload_b64)))
        self._check(claims)
        self.cache.put(token_digest(token), claims, claims.expires_at + self._leeway)
        return claims

    def _check(self, claims: SessionClaims) -> None:
        now = self._clock()
        if now >= claims.expires_at + self._leeway:
            raise TokenError("token-expired", "the token has expired")
        if claims.not_before is not None and now + self._leeway < claims.not_before:
            raise TokenError("token-not-active-yet", "the token is not valid yet")
        if now + self._leeway < claims.issued_at:
            raise TokenError("token-iat-in-the-future", "the token was issued in the future")
        if claims.issuer != self._issuer:
            raise TokenError("token-invalid-issuer", "the token is from another Clerk instance")
        if self._parties is not None and claims.authorized_party not in self._parties:
            raise TokenError(
                "token-invalid-authorized-parties", "the token's azp is not an authorized party"
            )
        if claims.status == "pending":
            raise TokenError("session-pending", "the session has pending tasks")
