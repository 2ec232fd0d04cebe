"""`GET /hub/api/clerk/workspaces`: the signed-in person's own workspaces, for JupyterLab's top bar.

Each workspace is one of the person's servers (the personal one, one per organization, as
`spawn.workspace_for` allows them) with its organization's name and the Hub's spawn page for
it, which sends a running server's tab straight there and starts any other (showing its
progress). There is no user parameter: whoever asks (a Hub admin or an organization's admin
included) gets their own list, never anyone else's.

Authenticated as any Hub API request: a token (JupyterLab sends the one JupyterHub puts in its
page config), or the Hub cookie under the Hub's XSRF rules, which refuse a script's
cookie-only request from any other page. JupyterHub lets every token of a person read that
person's name and groups (its "identify" scopes, whatever else the token may do); the answer is
those groups, with their names, and nothing more: no server state (that needs `read:servers`,
which the page's token does not have), no roles. It is never cached.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from jupyterhub.apihandlers.base import APIHandler
from jupyterhub.user import User
from jupyterhub.utils import url_path_join
from tornado import web

from ..clerk_api.client import BackendAPIError
from ..clerk_api.models import Membership
from ..workspaces.resolution import PERSONAL
from .names import server_name


def workspace_entries(
    memberships: dict[str, Membership], personal_enabled: bool
) -> list[dict[str, str]]:
    """The person's workspaces: organizations by name, then personal."""
    entries = [
        {
            "workspace": org,
            "label": m.organization_name or m.organization_slug or org,
            "server": server_name(org),
        }
        for org, m in memberships.items()
    ]
    entries.sort(key=lambda e: (e["label"].lower(), e["workspace"]))
    if personal_enabled:
        entries.append({"workspace": PERSONAL, "label": "Personal", "server": ""})
    return entries


class HubWorkspacesHandler(APIHandler):
    async def get(self) -> None:
        user = self.current_user
        if not isinstance(user, User):  # nobody, or a service: services have no workspaces
            raise web.HTTPError(403, "Only a signed-in person has workspaces.")
        authenticator = self.authenticator
        try:
            memberships = await authenticator.memberships.memberships(user.name)
        except BackendAPIError:
            raise web.HTTPError(503, "Clerk did not answer: try again in a moment.") from None
        entries = workspace_entries(memberships, authenticator.personal_workspaces)
        spawn = url_path_join(self.hub.base_url, "spawn", quote(user.name, safe=""))
        for entry in entries:
            name = entry["server"]
            entry["spawn_url"] = url_path_join(spawn, name) if name else spawn
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps({"user": user.name, "workspaces": entries}))
