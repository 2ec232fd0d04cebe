"""Clerk session-token claims (versions 1 and 2) parsed into one typed result.

Parsing happens only after the signature is verified; every claim the project reads is type-
and shape-checked here (ids against `ids`, organizations in `organization_claims`), so nothing
downstream (paths, cache keys, logs) ever sees an unchecked value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import TokenError
from .ids import CLIENT_ID as CLIENT_ID
from .ids import ORG_ID as ORG_ID
from .ids import SESSION_ID, USER_ID, valid_id
from .organization_claims import (
    Organization,
    feature_elements,
    optional_str,
    organization_v1,
    organization_v2,
)

# Whole seconds since the epoch, no later than 9999-12-31: Clerk's times, and no others.
MAX_TIMESTAMP = 253_402_300_799
# Plans are not read here; their elements are still a scope and printable ASCII, no commas.
_PLAN = re.compile(r"(o|u|ou|uo):[\x21-\x2b\x2d-\x7e]{1,128}", re.ASCII)
_KNOWN = frozenset(
    {"sub", "sid", "sts", "o", "fea", "pla", "act", "v", "iss", "azp", "exp", "iat", "nbf"}
    | {"org_id", "org_slug", "org_role", "org_permissions"}
)


@dataclass(frozen=True)
class SessionClaims:
    user_id: str
    session_id: str
    issuer: str
    expires_at: int
    issued_at: int
    not_before: int | None
    authorized_party: str | None
    status: str | None
    organization: Organization | None
    features: tuple[str, ...]
    plans: tuple[str, ...]
    actor: Mapping[str, Any] | None
    version: int
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


def _timestamp(payload: Mapping[str, Any], name: str, *, required: bool) -> int | None:
    """An integer (not a float, not a boolean) in [0, MAX_TIMESTAMP]."""
    if name not in payload and not required:
        return None
    value = payload.get(name)
    if type(value) is not int or not 0 <= value <= MAX_TIMESTAMP:
        raise TokenError("token-invalid", f"claim {name} must be an integer time")
    return value


def _plans(pla: str | None) -> tuple[str, ...]:
    plans = pla.split(",") if pla else []
    if not all(_PLAN.fullmatch(plan) for plan in plans):
        raise TokenError("token-invalid", "claim pla has a malformed element")
    return tuple(plans)


def _actor(payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
    if "act" not in payload:
        return None
    act = payload["act"]
    if not isinstance(act, Mapping) or not valid_id(USER_ID, act.get("sub")):
        raise TokenError("token-invalid", "claim act must be an object with a user id sub")
    return dict(act)


def parse_session_claims(payload: Mapping[str, Any]) -> SessionClaims:
    """Shape-check a verified payload; time, issuer and party checks are the verifier's."""
    version = payload.get("v", 1)
    if type(version) is not int or version not in (1, 2):
        raise TokenError("token-invalid", "unknown claim version")
    if not valid_id(USER_ID, payload.get("sub")):
        raise TokenError("token-invalid", "claim sub is not a user id")
    if "sid" not in payload:
        raise TokenError("token-invalid", "no sid: not a session token (a JWT template?)")
    if not valid_id(SESSION_ID, payload.get("sid")):
        raise TokenError("token-invalid", "claim sid is not a session id")
    status = optional_str(payload, "sts")
    if status not in (None, "active", "pending"):
        raise TokenError("token-invalid", "claim sts has an unknown session status")
    features = feature_elements(optional_str(payload, "fea"))
    organization = organization_v2(payload) if version == 2 else organization_v1(payload)
    issuer = payload.get("iss")
    if not isinstance(issuer, str):
        raise TokenError("token-invalid-issuer", "claim iss is missing")
    return SessionClaims(
        user_id=payload["sub"],
        session_id=payload["sid"],
        issuer=issuer,
        expires_at=_timestamp(payload, "exp", required=True),
        issued_at=_timestamp(payload, "iat", required=True),
        not_before=_timestamp(payload, "nbf", required=False),
        authorized_party=optional_str(payload, "azp"),
        status=status,
        organization=organization,
        features=features,
        plans=_plans(optional_str(payload, "pla")),
        actor=_actor(payload),
        version=version,
        extra={k: v for k, v in payload.items() if k not in _KNOWN},
    )
