"""Clerk-shaped identifiers: `<prefix>_<base62>`, e.g. `user_2aDemoAda…` or `sess_2b…`.

Every id the instance hands out or accepts goes through here, so a malformed id can be
refused before it is used as a lookup key or echoed into a URL.
"""

from __future__ import annotations

import re
import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
_RANDOM_LENGTH = 27  # what Clerk's KSUID-based ids carry after the prefix
_ID = re.compile(r"^[a-z]+_[A-Za-z0-9]{1,64}$")


def new_id(prefix: str) -> str:
    """A fresh random id, unguessable so it can double as a bearer handle (client ids)."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_LENGTH))


def is_clerk_id(value: object, prefix: str) -> bool:
    """Whether `value` is shaped like a Clerk id with the given prefix."""
    return isinstance(value, str) and value.startswith(f"{prefix}_") and bool(_ID.match(value))
