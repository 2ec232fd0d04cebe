"""What the Hub tells a single-user server through its environment, and how the server reads
it back: the workspace it serves and the Hub's role mapping.

Values are base64url JSON: no braces, which KubeSpawner would expand as a template. A server
refuses to start without them (it was not spawned by a Clerk Hub).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from typing import Any

from ..workspaces.resolution import Workspace

WORKSPACE_ENV = "CLERK_HUB_WORKSPACE"
# The Hub's role mapping (c.ClerkAuthenticator.role_actions), for the server's authorizer.
ROLE_ACTIONS_ENV = "CLERK_HUB_ROLE_ACTIONS"


def encode_value(data: object) -> str:
    """base64url JSON: no braces, which KubeSpawner would expand as a template."""
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode("ascii")


def encode_workspace(workspace: Workspace) -> str:
    return encode_value(
        {
            "kind": workspace.kind,
            "id": workspace.id,
            "slug": workspace.slug,
            "role": workspace.role,
            "permissions": sorted(workspace.permissions),
        }
    )


_NOT_SPAWNED = "this server must be spawned by a Hub using jupyter_clerk.hub.ClerkAuthenticator."


def _decoded(name: str, environ: Mapping[str, str] | None) -> Any:
    raw = (os.environ if environ is None else environ).get(name, "")
    try:
        return json.loads(base64.urlsafe_b64decode(raw.encode("ascii")))
    except (ValueError, binascii.Error):
        raise RuntimeError(f"${name} is missing or malformed: {_NOT_SPAWNED}") from None


def workspace_from_environment(environ: Mapping[str, str] | None = None) -> Workspace:
    """The workspace the Hub spawned this server for; refuses to start without one."""
    data = _decoded(WORKSPACE_ENV, environ)
    try:
        permissions = data.get("permissions") or []
        if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
            raise ValueError("permissions")
        return Workspace(
            data["kind"],
            data["id"],
            slug=data.get("slug"),
            role=data.get("role"),
            permissions=frozenset(permissions),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        raise RuntimeError(f"${WORKSPACE_ENV} is malformed: {_NOT_SPAWNED}") from None


def role_actions_from_environment(
    environ: Mapping[str, str] | None = None,
) -> dict[str, list[str]]:
    """The Hub's role mapping, which also decided this server's mounts (see `spawn`)."""
    data = _decoded(ROLE_ACTIONS_ENV, environ)
    if not isinstance(data, dict) or not all(
        isinstance(actions, list) and all(isinstance(a, str) for a in actions)
        for actions in data.values()
    ):
        raise RuntimeError(f"${ROLE_ACTIONS_ENV} is malformed: {_NOT_SPAWNED}")
    return data
