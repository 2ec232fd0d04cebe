"""Sign-in through the Frontend API, as Clerk's `<SignIn/>` and `signIn.create()` do it.

`POST /v1/client/sign_ins` names the person (`identifier`: email or username), optionally
with `strategy=password` and the password at once; `…/attempt_first_factor` gives the
password. A complete attempt creates a session on the browser's client, in the person's
first organization. Every demo person has the instance's one demo password.
"""

from __future__ import annotations

import hmac
from typing import Any

from .data import User
from .errors import ClerkAPIError, missing_param, not_found
from .fapi_resources import public_user_data_json
from .frontend_api import FrontendAPIHandler
from .frontend_state import SignInAttempt
from .state import Client


def identifier_not_found() -> ClerkAPIError:
    return ClerkAPIError(
        422,
        "form_identifier_not_found",
        "Couldn't find your account.",
        "Couldn't find your account.",
        {"param_name": "identifier"},
    )


def password_incorrect() -> ClerkAPIError:
    return ClerkAPIError(
        422,
        "form_password_incorrect",
        "Password is incorrect. Try again, or use another method.",
        "Password is incorrect. Try again, or use another method.",
        {"param_name": "password"},
    )


def session_exists() -> ClerkAPIError:
    return ClerkAPIError(
        400, "session_exists", "You're already signed in.", "You're already signed in."
    )


def sign_in_json(attempt: SignInAttempt, user: User) -> dict[str, Any]:
    """`SignInJSON`: id, status, identifier, supported_identifiers, supported_first_factors,
    first_factor_verification, user_data, created_session_id, abandon_at."""
    complete = attempt.status == "complete"
    return {
        "object": "sign_in",
        "id": attempt.id,
        "status": attempt.status,
        "supported_identifiers": ["email_address", "username"],
        "identifier": attempt.identifier,
        "supported_first_factors": [{"strategy": "password"}],
        "supported_second_factors": None,
        "first_factor_verification": {
            "object": "verification",
            "status": "verified" if complete else "unverified",
            "strategy": "password",
            "attempts": None,
            "expire_at": None,
            "error": None,
        }
        if complete
        else None,
        "second_factor_verification": None,
        "user_data": public_user_data_json(user),
        "created_session_id": attempt.created_session_id,
        "abandon_at": attempt.abandon_at,
    }


class _SignInAnswer(FrontendAPIHandler):
    def _answer(self, attempt: SignInAttempt, client: Client) -> None:
        user = self.ctx.data.users[attempt.user_id]
        response = sign_in_json(attempt, user)
        live = attempt if attempt.status != "complete" else None
        body = self.client_json(client, sign_in=sign_in_json(live, user) if live else None)
        self.write_json({"response": response, "client": body})


class SignInsHandler(_SignInAnswer):
    """POST /v1/client/sign_ins: start (and with a password, finish) a sign-in."""

    def post(self) -> None:
        identifier = self.get_body_argument("identifier", "").strip()
        if not identifier:
            raise missing_param("identifier")
        user = self._find_user(identifier)
        client = self.client_or_new()
        if self.ctx.store.last_active_session(client) is not None:
            raise session_exists()
        attempt = self.ctx.frontend.start_sign_in(client.id, user.id, identifier)
        if self.get_body_argument("strategy", None) == "password":
            _complete(self, attempt, client, self.get_body_argument("password", ""))
        self._answer(attempt, client)

    def _find_user(self, identifier: str) -> User:
        wanted = identifier.lower()
        for user in self.ctx.data.users.values():
            if wanted in (user.email.lower(), (user.username or "").lower()):
                return user
        raise identifier_not_found()


class SignInHandler(_SignInAnswer):
    """GET /v1/client/sign_ins/{id}: an attempt of this client (reloads resume it)."""

    def get(self, sign_in_id: str) -> None:
        client = self.current_client()
        self._answer(_attempt(self, client, sign_in_id), client)


class AttemptFirstFactorHandler(_SignInAnswer):
    """POST /v1/client/sign_ins/{id}/attempt_first_factor, `strategy=password`, `password`."""

    def post(self, sign_in_id: str) -> None:
        client = self.current_client()
        attempt = _attempt(self, client, sign_in_id)
        strategy = self.get_body_argument("strategy", "")
        if strategy != "password":
            raise ClerkAPIError(
                422,
                "strategy_for_user_invalid",
                "is invalid",
                f"The strategy {strategy!r} is not allowed here; use password.",
                {"param_name": "strategy"},
            )
        if attempt.status != "complete":
            _complete(self, attempt, client, self.get_body_argument("password", ""))
        self._answer(attempt, client)


def _attempt(handler: FrontendAPIHandler, client: Client, sign_in_id: str) -> SignInAttempt:
    attempt = handler.ctx.frontend.sign_in_of(client.id, sign_in_id)
    if attempt is None:
        raise not_found(f"No sign in was found with id {sign_in_id}")
    return attempt


def _complete(
    handler: FrontendAPIHandler, attempt: SignInAttempt, client: Client, password: str
) -> None:
    """Check the password; on success the attempt creates the session."""
    expected = handler.ctx.frontend.password
    if not password or not hmac.compare_digest(password.encode(), expected.encode()):
        raise password_incorrect()
    memberships = handler.ctx.data.memberships_of(attempt.user_id)
    session = handler.ctx.store.sign_in(
        attempt.user_id,
        client_id=client.id,
        organization_id=memberships[0].organization_id if memberships else None,
    )
    attempt.status = "complete"
    attempt.created_session_id = session.id
