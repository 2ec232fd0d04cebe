"""Clerk publishable keys: `pk_test_`/`pk_live_` + base64 of `<frontend-api-host>$`.

The issuer of every session token is derived from it, so a key that does not parse
must stop the server rather than leave the issuer check with nothing to compare.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

_PREFIXES = {"pk_test_": "development", "pk_live_": "production"}
# A host name with an optional port: what a Frontend API host can look like.
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?$")


class PublishableKeyError(ValueError):
    """The publishable key is not one Clerk would issue."""


@dataclass(frozen=True)
class PublishableKey:
    instance_type: str
    frontend_api: str

    @property
    def issuer(self) -> str:
        """The `iss` claim of the instance's session tokens."""
        return f"https://{self.frontend_api}"

    @property
    def jwks_url(self) -> str:
        """The Frontend API's public JWKS: no secret key needed to fetch it."""
        return f"https://{self.frontend_api}/.well-known/jwks.json"


def parse_publishable_key(key: str) -> PublishableKey:
    prefix = next((p for p in _PREFIXES if key.startswith(p)), None)
    if prefix is None:
        raise PublishableKeyError("a publishable key starts with pk_test_ or pk_live_")
    encoded = key[len(prefix) :]
    try:
        decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True).decode(
            "ascii"
        )
    except (binascii.Error, UnicodeDecodeError):
        raise PublishableKeyError("the publishable key is not valid base64") from None
    host = decoded[:-1]
    if not decoded.endswith("$") or "." not in host or not _HOST.match(host):
        raise PublishableKeyError("the publishable key does not name a Frontend API host")
    return PublishableKey(instance_type=_PREFIXES[prefix], frontend_api=host)


def build_publishable_key(frontend_api: str, *, live: bool = False) -> str:
    """The key Clerk would issue for a Frontend API host (used by the local instance)."""
    prefix = "pk_live_" if live else "pk_test_"
    encoded = base64.b64encode(f"{frontend_api}$".encode("ascii")).decode("ascii")
    return prefix + encoded.rstrip("=")


def account_portal_sign_in_url(frontend_api: str) -> str | None:
    """Clerk's hosted sign-in page for a Frontend API host, when its name tells it."""
    dev_suffix = ".clerk.accounts.dev"
    if frontend_api.endswith(dev_suffix):
        return f"https://{frontend_api[: -len(dev_suffix)]}.accounts.dev/sign-in"
    if frontend_api.startswith("clerk."):
        return f"https://accounts.{frontend_api[len('clerk.') :]}/sign-in"
    return None
