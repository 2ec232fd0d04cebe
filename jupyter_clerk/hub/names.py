"""Hub server names for workspaces, and back.

JupyterHub 6 accepts server names of 1–30 characters of `[a-z0-9-]` starting with a letter;
Clerk ids are longer and case-sensitive, so `org_2aX` and `org_2ax` are different
organizations. The name is a digest of the whole id (lowercase base32, 120 bits), so two
organizations cannot share a server by any accident of case or length; the id itself travels
in `user_options` and is checked against the name before anything is spawned.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping

from ..auth.claims import ORG_ID, valid_id

PREFIX = "o"
DIGEST_CHARS = 24  # 120 bits: collisions need ~2^60 organizations
SERVER_NAME = re.compile(rf"{PREFIX}[a-z2-7]{{{DIGEST_CHARS}}}")
# What JupyterHub 6 itself accepts, checked in tests against every name we make.
HUB_SERVER_NAME = re.compile(r"[a-z][a-z0-9-]{0,29}")


def short_digest(clerk_id: str) -> str:
    """24 characters of `[a-z2-7]` standing for a whole (case-sensitive) Clerk id."""
    digest = hashlib.sha256(clerk_id.encode("ascii")).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:DIGEST_CHARS]


def server_name(organization_id: str) -> str:
    """The named server of an organization (the personal workspace is the default server, '')."""
    if not valid_id(ORG_ID, organization_id):
        raise ValueError("not a Clerk organization id")
    return PREFIX + short_digest(organization_id)


def organization_of(
    name: str, user_options: Mapping[str, object], memberships: Iterable[str]
) -> str | None:
    """The organization a named server is for (None: the personal server).

    `user_options["org"]` when given (it must match the name); otherwise the one membership
    whose name it is, so `/hub/spawn/<user>/<name>` works from a plain link.
    """
    if name == "":
        return None
    org = user_options.get("org")
    if org is None:
        org = next((m for m in memberships if server_name(m) == name), None)
    if not isinstance(org, str) or not valid_id(ORG_ID, org) or server_name(org) != name:
        raise ValueError("the server name is not one of your organizations")
    return org
