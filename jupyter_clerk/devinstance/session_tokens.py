"""Session tokens exactly as Clerk mints them (claims v2), plus hooks to forge bad ones.

Payload: azp, exp, fea, fva, iat, iss, nbf, o{id, rol, slg, per, fpm}, sid, sts, sub, v=2.
Organization permissions `org:<feature>:<perm>` are packed the way Clerk packs them: the
features go to `fea` as `o:<feature>`, the distinct permission names to `o.per`, and for each
feature a decimal bitmask in `o.fpm` whose bit i stands for the i-th name in `o.per`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from .data import DirectoryData
from .errors import not_a_member, session_not_active
from .signing import KeyRing
from .state import Session, now_ms

# Clerk's session-token category header (`cat`), present on every session token it issues.
SESSION_TOKEN_CATEGORY = "cl_B7d4PD111AAA"  # noqa: S105 (a public constant, not a secret)
DEFAULT_LIFETIME = 60  # seconds, as Clerk
NOT_BEFORE_SKEW = 5  # seconds `nbf` lies before `iat`, to absorb clock skew
_SYSTEM_FEATURE_PREFIX = "sys_"  # Clerk leaves system permissions out of session tokens


def encode_org_permissions(permissions: Iterable[str]) -> tuple[str, str, str]:
    """Pack `org:<feature>:<perm>` keys into Clerk's `(fea, per, fpm)` strings.

    Names keep first-seen order, so `org:dashboard:manage, org:dashboard:read, org:teams:read`
    gives `("o:dashboard,o:teams", "manage,read", "3,2")`, Clerk's documented example.
    """
    features: dict[str, set[str]] = {}
    names: list[str] = []
    for key in permissions:
        scope, _, rest = key.partition(":")
        feature, _, name = rest.partition(":")
        if scope != "org" or not feature or not name or feature.startswith(_SYSTEM_FEATURE_PREFIX):
            continue
        features.setdefault(feature, set()).add(name)
        if name not in names:
            names.append(name)
    masks = [
        sum(1 << i for i, name in enumerate(names) if name in granted)
        for granted in features.values()
    ]
    return (
        ",".join(f"o:{feature}" for feature in features),
        ",".join(names),
        ",".join(str(mask) for mask in masks),
    )


class SessionTokenMinter:
    """Builds and signs session tokens for sessions of one instance."""

    def __init__(self, keyring: KeyRing, data: DirectoryData, issuer: str) -> None:
        self._keyring = keyring
        self._data = data
        self.issuer = issuer

    def claims(
        self,
        session: Session,
        *,
        organization_id: str | None,
        lifetime: int = DEFAULT_LIFETIME,
        azp: str | None = None,
    ) -> dict[str, Any]:
        """The payload Clerk would put in a token for `session` in `organization_id`."""
        if not session.signed_in:
            raise session_not_active(session.id, session.status)
        iat = int(time.time())
        first_factor_age = max(0, (now_ms() - session.created_at) // 60_000)
        claims: dict[str, Any] = {}
        if azp is not None:
            claims["azp"] = azp
        claims["exp"] = iat + lifetime
        claims["fva"] = [first_factor_age, -1]
        claims["iat"] = iat
        claims["iss"] = self.issuer
        claims["nbf"] = iat - NOT_BEFORE_SKEW
        if organization_id is not None:
            fea, org_claim = self._org_claim(session.user_id, organization_id)
            if fea:
                claims["fea"] = fea
            claims["o"] = org_claim
        claims["sid"] = session.id
        claims["sts"] = session.status
        claims["sub"] = session.user_id
        claims["v"] = 2
        return dict(sorted(claims.items()))

    def mint(
        self,
        session: Session,
        *,
        organization_id: str | None,
        lifetime: int = DEFAULT_LIFETIME,
        azp: str | None = None,
        extra_claims: Mapping[str, Any] | None = None,
        drop_claims: Iterable[str] = (),
        header_overrides: Mapping[str, Any] | None = None,
    ) -> str:
        """A signed token; `extra_claims` override/add claims, `drop_claims` remove them, and
        `header_overrides` change header fields (a value of None removes the field)."""
        payload = self.claims(session, organization_id=organization_id, lifetime=lifetime, azp=azp)
        payload.update(extra_claims or {})
        for name in drop_claims:
            payload.pop(name, None)
        key = self._keyring.current
        header: dict[str, Any] = {
            "alg": "RS256",
            "cat": SESSION_TOKEN_CATEGORY,
            "kid": key.kid,
            "typ": "JWT",
        }
        for name, value in (header_overrides or {}).items():
            if value is None:
                header.pop(name, None)
            else:
                header[name] = value
        return key.sign(header, payload)

    def _org_claim(self, user_id: str, organization_id: str) -> tuple[str, dict[str, str]]:
        membership = self._data.membership(user_id, organization_id)
        if membership is None:
            raise not_a_member(organization_id)
        organization = self._data.organizations[organization_id]
        fea, per, fpm = encode_org_permissions(membership.permissions)
        return fea, {
            "id": organization.id,
            "rol": membership.role.removeprefix("org:"),
            "slg": organization.slug,
            "per": per,
            "fpm": fpm,
        }
