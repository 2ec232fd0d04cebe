"""Hub mode for single-user servers: identity from the Hub, the workspace fixed per server.

`jupyterhub-singleuser` installs its own identity provider, and this module does not fight
it: the person is whoever the Hub says (with the Hub's `access:servers` check), the workspace
is the one the Hub spawned this server for (`CLERK_HUB_WORKSPACE`, never a request header),
and Clerk roles and permissions decide read, write and execute through the project's
authorizer, as in single-server mode.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyterhub.singleuser.extension import JupyterHubAuthorizer

from ..workspaces.authorizer import ClerkAuthorizer
from ..workspaces.resolution import Workspace
from .server_env import role_actions_from_environment, workspace_from_environment

# A JupyterLab page config for hub mode: the Clerk session, server settings, top bar and role
# plugins off (behind the Hub, requests carry the Hub's cookie, not Clerk tokens, and
# JupyterLab's own server settings come back), and the hub top bar on (`clerkHub`), which
# switches between the person's servers at the Hub.
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
