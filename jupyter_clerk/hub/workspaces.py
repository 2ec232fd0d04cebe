"""`GET /hub/api/clerk/workspaces`: the signed-in person's own workspaces, for JupyterLab's top bar.

Each workspace is one of the person's servers (the personal one, one per organization, as
`spawn.workspace_for` allows them) with its organization's name and the Hub's spawn page for
it, which sends a running server's tab straight there and starts any other (showing its
progress). There is no user parameter: the answer is the list of the person the credential
belongs to (a Hub admin or an organization's admin included), whoever that is.

Only two credentials are taken, the two a person's browser holds:
- the Hub cookie, under the Hub's XSRF rules, which refuse a script's cookie-only request
  from any other page;
- an OAuth access token the Hub issued to a single-user server's OAuth client for that
  person: the token JupyterHub puts in a JupyterLab page's config.
Every other token is refused, above all a server's own API token (`JUPYTERHUB_API_TOKEN`),
which its kernels inherit: an organization's admin may run code in a member's server of that
organization, and must not learn the member's other organizations there. Tokens made on the
Hub's token page and services' tokens are refused too. The answer is the person's groups with
their names, no server state, no roles; it is never cached.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from jupyterhub import orm
from jupyterhub.apihandlers.base import APIHandler
from jupyterhub.user import User
from jupyterhub.utils import url_path_join
from tornado import web

from ..auth.claims import USER_ID, valid_id
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
        if not valid_id(USER_ID, user.name):  # a Hub user left by another authenticator
            raise web.HTTPError(403, "Only a person signed in with Clerk has workspaces.")
        if not from_a_persons_browser(self.get_token()):
            raise web.HTTPError(
                403, "Workspaces are listed for the Hub's sign-in cookie or a JupyterLab page only."
            )
        authenticator = self.authenticator
        # When Clerk cannot be asked, this raises MembershipsUnavailable: a clear 503.
        memberships = await authenticator.memberships.memberships(user.name)
        entries = workspace_entries(memberships, authenticator.personal_workspaces)
        spawn = url_path_join(self.hub.base_url, "spawn", quote(user.name, safe=""))
        for entry in entries:
            name = entry["server"]
            entry["spawn_url"] = url_path_join(spawn, name) if name else spawn
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps({"user": user.name, "workspaces": entries}))


def from_a_persons_browser(token: orm.APIToken | None) -> bool:
    """Whether the request's credential is one a browser holds: no token (the Hub cookie,
    whose XSRF rules the Hub has applied), or a token issued through OAuth to a single-user
    server (JupyterHub issues those only to a cookie-signed-in browser, never to a token)."""
    if token is None:
        return True
    client = token.oauth_client
    return client is not None and client.spawner is not None
