"""Clerk's error responses: `{"errors": [{message, long_message, code, meta}], "clerk_trace_id"}`.

The state, the key ring and the handlers raise `ClerkAPIError`; the server turns it into the
exact body Clerk's SDKs parse, so clients see the same failures they would see from Clerk.
"""

from __future__ import annotations

import secrets
from typing import Any


class ClerkAPIError(Exception):
    """A request Clerk would refuse, with the HTTP status and error code Clerk would use."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        long_message: str,
        meta: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(long_message)
        self.status = status
        self.code = code
        self.message = message
        self.long_message = long_message
        self.meta = meta or {}
        self.headers = headers or {}  # e.g. Retry-After on a 429

    def to_json(self) -> dict[str, Any]:
        error = {"message": self.message, "long_message": self.long_message, "code": self.code}
        if self.meta:
            error["meta"] = self.meta
        return {"errors": [error], "clerk_trace_id": secrets.token_hex(16)}


def not_found(long_message: str = "Resource not found") -> ClerkAPIError:
    return ClerkAPIError(404, "resource_not_found", "not found", long_message)


def unauthenticated(long_message: str) -> ClerkAPIError:
    return ClerkAPIError(401, "authentication_invalid", "Unauthorized request", long_message)


def invalid_param(name: str, long_message: str, status: int = 422) -> ClerkAPIError:
    return ClerkAPIError(
        status,
        "form_param_value_invalid",
        "is invalid",
        long_message,
        {"param_name": name},
    )


def missing_param(name: str) -> ClerkAPIError:
    return ClerkAPIError(
        422,
        "form_param_missing",
        "missing required parameter",
        f"{name} must be included.",
        {"param_name": name},
    )


def session_not_active(session_id: str, status: str) -> ClerkAPIError:
    return ClerkAPIError(
        401,
        "session_not_active",
        "session is not active",
        f"Session {session_id} is {status}; no token can be issued for it.",
    )


def not_a_member(org_id: str) -> ClerkAPIError:
    return ClerkAPIError(
        403,
        "not_a_member_in_organization",
        "not a member",
        f"The user is not a member of organization {org_id}.",
    )


def signed_out() -> ClerkAPIError:
    return ClerkAPIError(401, "signed_out", "You are signed out", "You are signed out.")
