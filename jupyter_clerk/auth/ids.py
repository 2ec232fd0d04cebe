"""Clerk ids: a type prefix, an underscore, base62 characters, nothing else.

ASCII classes only (`re.ASCII`, no `\\d` or `str.isalnum`), so Unicode digits and look-alike
letters never pass, and the prefix is matched exactly, so case games do not either.
"""

from __future__ import annotations

import re

_ID_BODY = r"[A-Za-z0-9]{1,64}"
USER_ID = re.compile(rf"user_{_ID_BODY}", re.ASCII)
SESSION_ID = re.compile(rf"sess_{_ID_BODY}", re.ASCII)
ORG_ID = re.compile(rf"org_{_ID_BODY}", re.ASCII)
CLIENT_ID = re.compile(rf"client_{_ID_BODY}", re.ASCII)


def valid_id(pattern: re.Pattern[str], value: object) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None
