"""Client tokens shaped like Clerk's `__client` JWT: `{"id": <client id>, "rotating_token"}`,
RS256-signed by the instance key, with no `sid` (which is what tells them from session tokens).

Non-browser callers hold one and send it as a bearer token; the Backend API resolves it
with `POST /v1/clients/verify`. Only the instance can check one: its signature and the
client's current rotating token must both match.
"""

from __future__ import annotations

import hmac

import jwt

from .errors import ClerkAPIError
from .signing import KeyRing
from .state import Client, SessionStore


def mint_client_token(keyring: KeyRing, client: Client) -> str:
    key = keyring.current
    return key.sign(
        {"alg": "RS256", "kid": key.kid, "typ": "JWT"},
        {"id": client.id, "rotating_token": client.rotating_token},
    )


def verified_client(keyring: KeyRing, store: SessionStore, token: str) -> Client | None:
    """The client a token names, if it is signed by a published key and not rotated out."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = next((k for k in keyring.published if k.kid == kid), None)
        if key is None:
            return None
        claims = jwt.decode(token, key.private_key.public_key(), algorithms=["RS256"])
    except jwt.PyJWTError:
        return None
    client_id, rotating = claims.get("id"), claims.get("rotating_token")
    if not isinstance(client_id, str) or not isinstance(rotating, str):
        return None
    try:
        client = store.client(client_id)
    except ClerkAPIError:
        return None
    if not hmac.compare_digest(client.rotating_token.encode(), rotating.encode()):
        return None
    return client
