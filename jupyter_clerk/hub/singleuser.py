"""Hub mode for single-user servers: identity from the Hub, the workspace fixed per server.

`jupyterhub-singleuser` installs its own identity provider, and this module does not fight
it: the person is whoever the Hub says (with the Hub's `access:servers` check), the workspace
is the one the Hub spawned this server for (`CLERK_HUB_WORKSPACE`, never a request header),
and Clerk roles and permissions decide read, write and execute through the project's
authorizer, as in single-server mode.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyterhub.singleuser.extension import JupyterHubAuthorizer

from ..workspaces.authorizer import ClerkAuthorizer
from ..workspaces.resolution import Workspace
from .spawn import ROLE_ACTIONS_ENV, WORKSPACE_ENV

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


# A JupyterLab page config that turns the Clerk front end off: behind the Hub, requests carry
# the Hub's cookie, not Clerk tokens, and JupyterLab's own server settings must come back.
FRONT_END_CONFIG = Path(__file__).parent / "singleuser_config"


def use_hub_front_end(environ: MutableMapping[str, str] = os.environ) -> None:
    """Put FRONT_END_CONFIG first on the Jupyter config path (read at every page load)."""
    paths = [p for p in environ.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p]
    if str(FRONT_END_CONFIG) not in paths:
        environ["JUPYTER_CONFIG_PATH"] = os.pathsep.join([str(FRONT_END_CONFIG), *paths])


@dataclass(frozen=True)
class _WorkspaceUser:
    """The Hub's user seen in this server's workspace, as ClerkAuthorizer expects it."""

    username: str
    workspace: Workspace


class HubWorkspaceAuthorizer(ClerkAuthorizer):
    """The Hub's access check first, then the workspace's Clerk role and permissions."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.workspace = workspace_from_environment()
        self.role_actions = self._hubs_role_actions(role_actions_from_environment())
        # The only hub-mode code in this process, so the front end is set here too.
        use_hub_front_end()
        self._hub_check = JupyterHubAuthorizer(
            parent=self, identity_provider=self.identity_provider
        )

    def _hubs_role_actions(self, hubs: dict[str, list[str]]) -> dict[str, list[str]]:
        """One mapping decides both the mounts (at the Hub) and the requests (here)."""
        default = type(self).class_traits()["role_actions"].default()
        if self.role_actions not in (default, hubs):
            raise RuntimeError(
                "c.ClerkAuthorizer.role_actions is set in this single-user server and differs "
                "from the Hub's c.ClerkAuthenticator.role_actions: in hub mode set it at the "
                "Hub only (it reaches every server it spawns)."
            )
        return hubs

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        if not self._hub_check.is_authorized(handler, user, action, resource):
            return False
        return super().is_authorized(
            handler, _WorkspaceUser(user.username, self.workspace), action, resource
        )
