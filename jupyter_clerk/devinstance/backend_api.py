"""The Backend API endpoints the product uses, with Clerk's paths, bodies and errors."""

from __future__ import annotations

import re
from typing import Any

from .base import BackendAPIHandler
from .client_tokens import verified_client
from .errors import ClerkAPIError, invalid_param, missing_param, not_found
from .resources import (
    client_json,
    membership_json,
    paginated,
    session_json,
    token_json,
    user_json,
)

_MAX_LIMIT = 500
_MAX_TOKEN_LIFETIME = 365 * 24 * 60 * 60
_SMALL_INT = re.compile(r"^[0-9]{1,12}$")


def _small_int(raw: str) -> int | None:
    """A form or query integer; None for anything else (signs, unicode digits, huge values)."""
    return int(raw) if _SMALL_INT.match(raw) else None


class JWKSHandler(BackendAPIHandler):
    """GET /v1/jwks: the same keys as the public JWKS, behind the secret key."""

    def get(self) -> None:
        self.write_json(self.ctx.keyring.jwks())


class UserHandler(BackendAPIHandler):
    """GET /v1/users/{user_id}"""

    def get(self, user_id: str) -> None:
        user = self.ctx.data.users.get(user_id)
        if user is None:
            raise not_found(f"No user was found with id {user_id}")
        self.write_json(user_json(user))


class UserMembershipsHandler(BackendAPIHandler):
    """GET /v1/users/{user_id}/organization_memberships?limit=&offset="""

    def get(self, user_id: str) -> None:
        if user_id not in self.ctx.data.users:
            raise not_found(f"No user was found with id {user_id}")
        limit = self._int_argument("limit", default=10, low=1, high=_MAX_LIMIT)
        offset = self._int_argument("offset", default=0, low=0, high=None)
        memberships = self.ctx.data.memberships_of(user_id)
        page = memberships[offset : offset + limit]
        self.write_json(
            paginated([membership_json(m, self.ctx.data) for m in page], len(memberships))
        )

    def _int_argument(self, name: str, *, default: int, low: int, high: int | None) -> int:
        raw = self.get_query_argument(name, None)
        if raw is None:
            return default
        value = _small_int(raw)
        if value is None or value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise invalid_param(name, f"{name} must be an integer {bounds}.")
        return value


class SessionsHandler(BackendAPIHandler):
    """POST /v1/sessions {"user_id"}: a new active session on a new client (testing aid).

    Like Clerk's, the session starts with no active organization."""

    def post(self) -> None:
        user_id = self.body_params().get("user_id")
        if not user_id:
            raise missing_param("user_id")
        if not isinstance(user_id, str):
            raise invalid_param("user_id", "user_id must be a string.")
        self.write_json(session_json(self.ctx.store.sign_in(user_id)))


class SessionHandler(BackendAPIHandler):
    """GET /v1/sessions/{session_id}"""

    def get(self, session_id: str) -> None:
        self.write_json(session_json(self.ctx.store.session(session_id)))


class SessionRevokeHandler(BackendAPIHandler):
    """POST /v1/sessions/{session_id}/revoke"""

    def post(self, session_id: str) -> None:
        self.write_json(session_json(self.ctx.store.revoke(session_id)))


class SessionTokenHandler(BackendAPIHandler):
    """POST /v1/sessions/{session_id}/tokens {"expires_in_seconds"?}"""

    def post(self, session_id: str) -> None:
        lifetime = self._lifetime(self.body_params())
        session = self.ctx.store.require_signed_in(session_id)
        token = self.ctx.minter.mint(
            session,
            organization_id=session.last_active_organization_id,
            lifetime=lifetime,
            azp=self.ctx.origins.default_origin,
        )
        self.write_json(token_json(token))

    def _lifetime(self, params: dict[str, Any]) -> int:
        value = params.get("expires_in_seconds")
        if value is None:
            return self.ctx.token_lifetime
        if isinstance(value, str):
            value = _small_int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid_param("expires_in_seconds", "expires_in_seconds must be an integer.")
        if not 1 <= value <= _MAX_TOKEN_LIFETIME:
            raise invalid_param(
                "expires_in_seconds",
                f"expires_in_seconds must be between 1 and {_MAX_TOKEN_LIFETIME}.",
            )
        return value


class ClientHandler(BackendAPIHandler):
    """GET /v1/clients/{client_id}"""

    def get(self, client_id: str) -> None:
        client = self.ctx.store.client(client_id)
        self.write_json(client_json(client, self.ctx.store.sessions_of(client)))


class ClientVerifyHandler(BackendAPIHandler):
    """POST /v1/clients/verify {"token"}: resolve a client token (a `__client`-shaped JWT)
    to its client with every session, as Clerk does for non-browser callers."""

    def post(self) -> None:
        token = self.body_params().get("token")
        if not token:
            raise missing_param("token")
        if not isinstance(token, str):
            raise invalid_param("token", "token must be a string.")
        client = verified_client(self.ctx.keyring, self.ctx.store, token)
        if client is None:
            raise ClerkAPIError(
                400, "client_token_invalid", "invalid client token", "The client token is invalid."
            )
        self.write_json(client_json(client, self.ctx.store.sessions_of(client)))
