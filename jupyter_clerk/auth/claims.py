"""Clerk session-token claims (versions 1 and 2) parsed into one typed result.

Parsing happens only after the signature is verified; every id is checked against Clerk's
id shape here, so nothing downstream (paths, cache keys, logs) ever sees an unchecked id.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import TokenError

# Clerk ids: a type prefix, an underscore, URL-safe characters. Nothing else is accepted.
_ID_BODY = r"[A-Za-z0-9]{1,64}"
USER_ID = re.compile(rf"user_{_ID_BODY}")
SESSION_ID = re.compile(rf"sess_{_ID_BODY}")
ORG_ID = re.compile(rf"org_{_ID_BODY}")
CLIENT_ID = re.compile(rf"client_{_ID_BODY}")


def valid_id(pattern: re.Pattern[str], value: object) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


@dataclass(frozen=True)
class Organization:
    """The organization a token is active in, with the member's role and permissions."""

    id: str
    slug: str | None
    role: str | None
    permissions: frozenset[str]


@dataclass(frozen=True)
class SessionClaims:
    user_id: str
    session_id: str
    issuer: str
    expires_at: float
    issued_at: float
    not_before: float | None
    authorized_party: str | None
    status: str | None
    organization: Organization | None
    features: tuple[str, ...]
    plans: tuple[str, ...]
    actor: Mapping[str, Any] | None
    version: int
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


def _number(payload: Mapping[str, Any], name: str, *, required: bool) -> float | None:
    value = payload.get(name)
    if value is None and not required and name not in payload:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TokenError("token-invalid", f"claim {name} must be a number")
    return float(value)


def _optional_str(container: Mapping[str, Any], name: str) -> str | None:
    value = container.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise TokenError("token-invalid", f"claim {name} must be a string")
    return value


def _split_list(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(part.strip() for part in value.split(","))


def organization_features(fea: str | None) -> list[str]:
    """Org-scoped features of `fea`, as @clerk/backend splits them (`o:`, `ou:`, `uo:`)."""
    features = []
    for part in _split_list(fea):
        scope, colon, name = part.partition(":")
        if not colon:
            raise TokenError("token-invalid", "claim fea has an element without a scope")
        if scope in ("o", "ou", "uo"):
            features.append(name)
    return features


def _mask_bits(mask: str) -> int | None:
    """A permission mask: decimal digits only, anything else grants nothing."""
    if not mask.isascii() or not mask.isdigit():
        return None
    try:
        return int(mask)
    except ValueError:
        return None


def decode_permissions(fea: str | None, per: str | None, fpm: str | None) -> frozenset[str]:
    """`org:<feature>:<permission>` keys from Clerk's compact v2 encoding.

    `fpm` holds one decimal mask per org feature (in `fea` order); bit i grants `per[i]`.
    """
    features = organization_features(fea)
    if not per or not fpm:
        return frozenset()
    permissions = _split_list(per)
    masks = _split_list(fpm)
    granted = set()
    for feature, mask in zip(features, masks, strict=False):
        bits = _mask_bits(mask)
        if bits is None:
            continue
        for index, permission in enumerate(permissions):
            if bits >> index & 1:
                granted.add(f"org:{feature}:{permission}")
    return frozenset(granted)


def _organization_v2(payload: Mapping[str, Any]) -> Organization | None:
    org = payload.get("o")
    if org is None:
        return None
    if not isinstance(org, Mapping):
        raise TokenError("token-invalid", "claim o must be an object")
    org_id = org.get("id")
    if not valid_id(ORG_ID, org_id):
        raise TokenError("token-invalid", "claim o.id is not an organization id")
    role = _optional_str(org, "rol")
    return Organization(
        id=org_id,
        slug=_optional_str(org, "slg"),
        role=f"org:{role}" if role else None,
        permissions=decode_permissions(
            _optional_str(payload, "fea"), _optional_str(org, "per"), _optional_str(org, "fpm")
        ),
    )


def _organization_v1(payload: Mapping[str, Any]) -> Organization | None:
    org_id = payload.get("org_id")
    if org_id is None:
        return None
    if not valid_id(ORG_ID, org_id):
        raise TokenError("token-invalid", "claim org_id is not an organization id")
    permissions = payload.get("org_permissions", [])
    if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
        raise TokenError("token-invalid", "claim org_permissions must be a list of strings")
    return Organization(
        id=org_id,
        slug=_optional_str(payload, "org_slug"),
        role=_optional_str(payload, "org_role"),
        permissions=frozenset(permissions),
    )


def _actor(payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
    act = payload.get("act")
    if act is None:
        return None
    if not isinstance(act, Mapping) or not isinstance(act.get("sub"), str):
        raise TokenError("token-invalid", "claim act must be an object with a sub")
    return dict(act)


def parse_session_claims(payload: Mapping[str, Any]) -> SessionClaims:
    """Shape-check a verified payload; time, issuer and party checks are the verifier's."""
    version = payload.get("v", 1)
    if version not in (1, 2) or isinstance(version, bool):
        raise TokenError("token-invalid", "unknown claim version")
    if not valid_id(USER_ID, payload.get("sub")):
        raise TokenError("token-invalid", "claim sub is not a user id")
    if "sid" not in payload:
        raise TokenError("token-invalid", "no sid: not a session token (a JWT template?)")
    if not valid_id(SESSION_ID, payload.get("sid")):
        raise TokenError("token-invalid", "claim sid is not a session id")
    status = _optional_str(payload, "sts")
    if status not in (None, "active", "pending"):
        raise TokenError("token-invalid", "claim sts has an unknown session status")
    organization = _organization_v2(payload) if version == 2 else _organization_v1(payload)
    issuer = payload.get("iss")
    if not isinstance(issuer, str):
        raise TokenError("token-invalid-issuer", "claim iss is missing")
    known = {"sub", "sid", "sts", "o", "fea", "pla", "act", "v", "iss", "azp"}
    known |= {"exp", "iat", "nbf", "org_id", "org_slug", "org_role", "org_permissions"}
    return SessionClaims(
        user_id=payload["sub"],
        session_id=payload["sid"],
        issuer=issuer,
        expires_at=_number(payload, "exp", required=True),
        issued_at=_number(payload, "iat", required=True),
        not_before=_number(payload, "nbf", required=False),
        authorized_party=_optional_str(payload, "azp"),
        status=status,
        organization=organization,
        features=_split_list(_optional_str(payload, "fea")),
        plans=_split_list(_optional_str(payload, "pla")),
        actor=_actor(payload),
        version=version,
        extra={k: v for k, v in payload.items() if k not in known},
    )
