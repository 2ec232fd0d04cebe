"""Where the public keys that verify session tokens come from.

A PEM key needs no network at all. A JWKS is fetched once and cached; an unknown `kid`
(key rotation) causes at most one refetch per cooldown, with a single fetch in flight, and an
outage keeps the known keys working while unknown ones fail closed.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from ..cache import SingleFlight
from ..errors import TokenError

MIN_RSA_BITS = 2048
MAX_JWKS_BYTES = 256 * 1024

log = logging.getLogger(__name__)

Fetch = Callable[[], Awaitable[bytes]]


class KeySource(Protocol):
    async def get_key(self, kid: str | None) -> RSAPublicKey: ...


def _strong_rsa(key: object) -> RSAPublicKey:
    if not isinstance(key, RSAPublicKey):
        raise ValueError("the key is not an RSA public key")
    if key.key_size < MIN_RSA_BITS:
        raise ValueError(f"the RSA key has {key.key_size} bits; at least {MIN_RSA_BITS} needed")
    return key


class PemKey:
    """One PEM public key (Clerk's `jwtKey`): networkless; the token's `kid` is not consulted."""

    def __init__(self, pem: str) -> None:
        try:
            loaded = load_pem_public_key(pem.replace("\\n", "\n").strip().encode("ascii"))
        except (ValueError, UnicodeEncodeError) as exc:
            raise ValueError("not a PEM public key") from exc
        self._key = _strong_rsa(loaded)

    async def get_key(self, kid: str | None) -> RSAPublicKey:
        return self._key


def parse_jwks(body: bytes) -> dict[str, RSAPublicKey]:
    """RS256 signing keys by kid; anything else in the set is ignored."""
    document = json.loads(body)
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError("a JWKS has a list of keys")
    keys = {}
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA":
            continue
        if entry.get("use", "sig") != "sig" or entry.get("alg", "RS256") != "RS256":
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        try:
            keys[kid] = _strong_rsa(jwt.PyJWK(entry, algorithm="RS256").key)
        except (jwt.PyJWKError, ValueError):
            log.warning("Ignoring an unusable key %r in the JWKS", kid)
    return keys


class HttpFetch:
    """A JWKS fetch that never follows redirects, so a secret-key header stays with its host."""

    def __init__(self, url: str, headers: Mapping[str, str], timeout: float) -> None:
        self.url = url
        self.headers = dict(headers)
        self.timeout = timeout

    async def __call__(self) -> bytes:
        request = HTTPRequest(
            self.url,
            headers=self.headers,
            connect_timeout=self.timeout,
            request_timeout=self.timeout,
            follow_redirects=False,
        )
        response = await AsyncHTTPClient().fetch(request, raise_error=True)
        if len(response.body) > MAX_JWKS_BYTES:
            raise ValueError("the JWKS is too large")
        return response.body


class JwksKeys:
    """A cached JWKS, refreshed on an unknown kid at most once per cooldown."""

    def __init__(
        self,
        fetch: Fetch,
        *,
        cooldown: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._cooldown = cooldown
        self._clock = clock
        self._keys: dict[str, RSAPublicKey] = {}
        self._last_attempt: float | None = None
        self._loads: SingleFlight[str, None] = SingleFlight()
        self.fetch_count = 0

    @property
    def url(self) -> str:
        return getattr(self._fetch, "url", "(custom fetch)")

    async def fetch_now(self) -> int:
        """One fetch that raises on failure (for `jupyter clerk check`): the number of keys."""
        self._keys = parse_jwks(await self._fetch())
        return len(self._keys)

    async def get_key(self, kid: str | None) -> RSAPublicKey:
        if not isinstance(kid, str) or not kid:
            raise TokenError("token-invalid", "the token header has no kid")
        key = self._keys.get(kid)
        if key is None:
            await self._refresh()
            key = self._keys.get(kid)
        if key is None:
            raise TokenError("jwk-kid-mismatch", "no known key has the token's kid")
        return key

    async def _refresh(self) -> None:
        if "jwks" not in self._loads:
            now = self._clock()
            if self._last_attempt is not None and now - self._last_attempt < self._cooldown:
                return
            self._last_attempt = now
        await self._loads.run("jwks", lambda _current: self._load())  # nothing invalidates it

    async def _load(self) -> None:
        self.fetch_count += 1
        try:
            keys = parse_jwks(await self._fetch())
        except Exception as exc:  # an outage must never take the known keys down with it
            log.warning(
                "Could not refresh the Clerk JWKS (%s); keeping known keys", type(exc).__name__
            )
        else:
            self._keys = keys
