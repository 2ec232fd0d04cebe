"""`GET /hub/api/clerk/workspaces`: the signed-in person's own workspaces, for JupyterLab's top bar.

Each workspace is one of the person's servers (the personal one, one per organization, as
`spawn.workspace_for` allows them), with its organization's name, whether it is running and the
two addresses the top bar needs: the server's own, and the Hub's spawn page that starts it and
shows progress. There is no user parameter: whoever asks (a Hub admin or an organization's
admin included) gets their own list, never anyone else's.

Authenticated as any Hub API request: a token (JupyterLab sends the one JupyterHub puts in its
page config, which carries the Hub's `read:users:groups!user` scope for its person), or the
Hub cookie under the Hub's XSRF rules, which refuse a script's cookie-only request from any
other page. The answer is never cached.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from jupyterhub.apihandlers.base import APIHandler
from jupyterhub.user import User
from jupyterhub.utils import url_path_join
from tornado import web

from ..clerk_api.client import BackendAPIError
from ..clerk_api.models import Membership
from ..workspaces.resolution import PERSONAL
from .names import server_name

# The Hub's own scope for a person's memberships (they are Hub groups): the one to require.
GROUPS_SCOPE = "read:users:groups"


def workspace_entries(
    memberships: dict[str, Membership], personal_enabled: bool
) -> list[dict[str, Any]]:
    """The person's workspaces (organizations by name, then personal), without server state."""
    entries = [
        {
            "workspace": org,
            "label": m.organization_name or m.organization_slug or org,
            "slug": m.organization_slug,
            "role": m.role,
            "server": server_name(org),
        }
        for org, m in memberships.items()
    ]
    entries.sort(key=lambda e: (e["label"].lower(), e["workspace"]))
    if personal_enabled:
        entries.append(
            {"workspace": PERSONAL, "label": "Personal", "slug": None, "role": None, "server": ""}
        )
    return entries


class HubWorkspacesHandler(APIHandler):
    async def get(self) -> None:
        user = self.current_user
        if not isinstance(user, User):  # nobody, or a service: services have no workspaces
            raise web.HTTPError(403, "Only a signed-in person has workspaces.")
        if not self.get_scope_filter(GROUPS_SCOPE)(user.orm_user, kind="user"):
            raise web.HTTPError(403, f"Requires the {GROUPS_SCOPE} scope for yourself.")
        authenticator = self.authenticator
        try:
            memberships = await authenticator.memberships.memberships(user.name)
        except BackendAPIError:
            raise web.HTTPError(503, "Clerk did not answer: try again in a moment.") from None
        entries = workspace_entries(memberships, authenticator.personal_workspaces)
        for entry in entries:
            entry.update(self._server_state(user, entry["server"]))
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps({"user": user.name, "workspaces": entries}))

    def _server_state(self, user: User, name: str) -> dict[str, Any]:
        spawner = user.spawners[name] if name in user.orm_spawners else None
        return {
            "ready": bool(spawner is not None and spawner.ready),
            "pending": spawner.pending if spawner is not None else None,
            "url": user.server_url(name),
            # GET starts it (the spawn hook fills user_options["org"]) and shows progress.
            "spawn_url": url_path_join(
                self.hub.base_url, "spawn", quote(user.name, safe=""), *([name] if name else [])
            ),
        }
