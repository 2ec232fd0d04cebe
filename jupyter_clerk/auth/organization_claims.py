"""Organization claims of Clerk session tokens, decoded cleanly or refused.

v2 packs permissions (@clerk/shared `jwtPayloadParser`): `fea` lists scoped features
(`o:`, `u:`, `ou:`, `uo:`); the org-scoped ones, in order, each own one decimal mask in
`o.fpm`, whose bit i (least significant first) grants `org:<feature>:<o.per[i]>`. A feature
past the last mask has no permissions. Clerk's decoder skips what it cannot read (a mask
that is not digits, bits past `per`, masks past the features) and so grants less than the
token says; here each of those is refused, so permissions are never reduced or guessed.
v1 lists them in `org_permissions`.

Clerk writes `o.rol` (`org_role` and `org_permissions` in v1) with every organization, and
`o.per` with `o.fpm`: a token missing one of them is not Clerk's, and is refused rather
than read with less. A token carries one shape only: a v2 token with v1 organization claims
(or the reverse) has two readings and is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import TokenError
from .ids import ORG_ID, valid_id

# Role, feature and permission keys, and slugs: Clerk writes them in lowercase ASCII.
_KEY = r"[a-z0-9_-]{1,64}"
KEY = re.compile(_KEY, re.ASCII)
SLUG = re.compile(r"[a-z0-9_-]{1,128}", re.ASCII)
ROLE_V1 = re.compile(rf"org:{_KEY}", re.ASCII)
PERMISSION_V1 = re.compile(rf"org:{_KEY}:{_KEY}", re.ASCII)
FEATURE = re.compile(rf"(?:o|u|ou|uo):{_KEY}", re.ASCII)
# Canonical decimal, short enough for int() (40 digits cover 132 permission names).
MASK = re.compile(r"0|[1-9][0-9]{0,39}", re.ASCII)
ORG_SCOPES = frozenset({"o", "ou", "uo"})
V1_CLAIMS = ("org_id", "org_role", "org_slug", "org_permissions")


@dataclass(frozen=True)
class Organization:
    """The organization a token is active in, with the member's role and permissions."""

    id: str
    slug: str | None
    role: str | None
    permissions: frozenset[str]


def _invalid(detail: str) -> TokenError:
    return TokenError("token-invalid", detail)


def optional_str(container: Mapping[str, Any], name: str) -> str | None:
    """An absent claim is None; a present one (even null) must be a string."""
    if name not in container:
        return None
    value = container[name]
    if not isinstance(value, str):
        raise _invalid(f"claim {name} must be a string")
    return value


def _matching(pattern: re.Pattern[str], container: Mapping[str, Any], name: str) -> str | None:
    value = optional_str(container, name)
    if value is not None and pattern.fullmatch(value) is None:
        raise _invalid(f"claim {name} is malformed")
    return value


def _elements(value: str, pattern: re.Pattern[str], name: str) -> list[str]:
    """A comma-separated list with no spaces or empty elements; '' is the empty list."""
    items = value.split(",") if value else []
    if not all(pattern.fullmatch(item) for item in items):
        raise _invalid(f"claim {name} has a malformed element")
    return items


def _distinct_list(value: str, pattern: re.Pattern[str], name: str) -> list[str]:
    items = _elements(value, pattern, name)
    if len(set(items)) != len(items):
        raise _invalid(f"claim {name} repeats an element")
    return items


def feature_elements(fea: str | None) -> tuple[str, ...]:
    """Every `scope:feature` element of `fea`, checked; a feature appears at most once."""
    elements = _distinct_list(fea or "", FEATURE, "fea")
    names = [element.partition(":")[2] for element in elements]
    if len(set(names)) != len(names):
        raise _invalid("claim fea lists a feature twice")
    return tuple(elements)


def organization_features(fea: str | None) -> list[str]:
    """Org-scoped feature names of `fea`, in order (the order `o.fpm` follows)."""
    return [
        name
        for scope, _, name in (element.partition(":") for element in feature_elements(fea))
        if scope in ORG_SCOPES
    ]


def decode_permissions(fea: str | None, per: str | None, fpm: str | None) -> frozenset[str]:
    """`org:<feature>:<permission>` keys from `fea`, `o.per` and `o.fpm`, or TokenError."""
    features = organization_features(fea)
    permissions = _distinct_list(per or "", KEY, "o.per")
    masks = _elements(fpm or "", MASK, "o.fpm")
    if bool(permissions) != bool(masks):
        raise _invalid("claims o.per and o.fpm come together or not at all")
    if len(masks) > len(features):
        raise _invalid("claim o.fpm has more masks than fea has organization features")
    granted = set()
    for feature, mask in zip(features, masks, strict=False):
        bits = int(mask)
        if bits >> len(permissions):
            raise _invalid("claim o.fpm grants a permission o.per does not name")
        granted.update(
            f"org:{feature}:{permission}"
            for index, permission in enumerate(permissions)
            if bits >> index & 1
        )
    return frozenset(granted)


def organization_v2(payload: Mapping[str, Any]) -> Organization | None:
    if any(name in payload for name in V1_CLAIMS):
        raise _invalid("a v2 token carries v1 organization claims")
    if "o" not in payload:
        return None
    org = payload["o"]
    if not isinstance(org, Mapping):
        raise _invalid("claim o must be an object")
    org_id = org.get("id")
    if not valid_id(ORG_ID, org_id):
        raise _invalid("claim o.id is not an organization id")
    role = _matching(KEY, org, "rol")
    if role is None:
        raise _invalid("claim o has no rol")
    return Organization(
        id=org_id,
        slug=_matching(SLUG, org, "slg"),
        role=f"org:{role}",
        permissions=decode_permissions(
            optional_str(payload, "fea"), optional_str(org, "per"), optional_str(org, "fpm")
        ),
    )


def organization_v1(payload: Mapping[str, Any]) -> Organization | None:
    if "o" in payload:
        raise _invalid("a v1 token carries the v2 organization claim o")
    if "org_id" not in payload:
        if any(name in payload for name in V1_CLAIMS):
            raise _invalid("organization claims without org_id")
        return None
    org_id = payload["org_id"]
    if not valid_id(ORG_ID, org_id):
        raise _invalid("claim org_id is not an organization id")
    permissions = payload.get("org_permissions")
    if (
        not isinstance(permissions, list)
        or not all(isinstance(p, str) and PERMISSION_V1.fullmatch(p) for p in permissions)
        or len(set(permissions)) != len(permissions)
    ):
        raise _invalid("claim org_permissions must be a list of distinct permission keys")
    role = _matching(ROLE_V1, payload, "org_role")
    if role is None:
        raise _invalid("claim org_id comes without org_role")
    return Organization(
        id=org_id,
        slug=_matching(SLUG, payload, "org_slug"),
        role=role,
        permissions=frozenset(permissions),
    )
