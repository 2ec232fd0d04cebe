"""Before a server starts: whose workspace it is, checked with Clerk again, and what the
spawner gets for it.

The default server is the personal workspace; a named server is one organization (see
`names`). The membership is confirmed (cached for `membership_cache_seconds`) at every spawn,
so a removed member cannot start the server again. The single-user server learns its
workspace from `CLERK_HUB_WORKSPACE` and never receives a Clerk secret. A local spawner runs in
the workspace's own directory; KubeSpawner mounts the workspace's volume, read-only for roles
that may not write, and labels the pod with the organization.
"""

from __future__ import annotations

from typing import Any

from jupyterhub.slugs import is_valid_display_name, normalise_unicode
from tornado import web

from ..workspaces.authorizer import workspace_actions
from ..workspaces.resolution import Workspace, membership_workspace, workspace_root
from .names import organization_of, server_name, short_digest
from .server_env import ROLE_ACTIONS_ENV, WORKSPACE_ENV, encode_value, encode_workspace

# The single-user server's side of hub mode: Jupyter's own identity from the Hub, our
# authorizer for the workspace, and the single-server wiring of the extension left off.
SINGLEUSER_ARGS = (
    "--ClerkApp.configure_server=False",
    "--ServerApp.authorizer_class=jupyter_clerk.hub.singleuser.HubWorkspaceAuthorizer",
)
HUB_CHECK_CACHE_ARG = "--HubOAuth.cache_max_age"
LABEL_PREFIX = "jupyter-clerk.dev"
_SECRET_VARIABLES = ("CLERK_SECRET_KEY", "CLERK_WEBHOOK_SIGNING_SECRET", "JUPYTERHUB_CRYPT_KEY")


def workspace_for(
    name: str, user_options: dict[str, Any], user_id: str, memberships: dict, personal_enabled: bool
) -> Workspace:
    """The workspace a server is for, or 403."""
    try:
        org = organization_of(name, user_options, memberships)
    except ValueError:
        raise web.HTTPError(403, "This server is not one of your organizations.") from None
    if org is None:
        if not personal_enabled:
            raise web.HTTPError(403, "Personal servers are turned off: open an organization.")
        return Workspace("personal", user_id)
    membership = memberships.get(org)
    if membership is None:
        raise web.HTTPError(403, "You are not a member of this organization.")
    return membership_workspace(membership)


def volume_name(workspace: Workspace) -> str:
    """A Kubernetes name (DNS-1123) for the workspace's volume claim."""
    kind = "user" if workspace.kind == "personal" else "org"
    return f"clerk-{kind}-{short_digest(workspace.id)}"


def _strip_secrets(spawner: Any) -> None:
    """No Clerk secret reaches a single-user server, whatever the Hub's configuration says."""
    spawner.env_keep = [k for k in spawner.env_keep if k not in _SECRET_VARIABLES]
    spawner.environment = {
        k: v for k, v in spawner.environment.items() if k not in _SECRET_VARIABLES
    }


def _configure_kubespawner(
    spawner: Any, workspace: Workspace, writable: bool, mount_path: str
) -> None:
    claim = volume_name(workspace)
    spawner.volumes = [
        v for v in spawner.volumes if not str(v.get("name", "")).startswith("clerk-")
    ] + [{"name": claim, "persistentVolumeClaim": {"claimName": claim}}]
    spawner.volume_mounts = [
        m for m in spawner.volume_mounts if not str(m.get("name", "")).startswith("clerk-")
    ] + [{"name": claim, "mountPath": mount_path, "readOnly": not writable}]
    labels = dict(spawner.extra_labels)
    labels[f"{LABEL_PREFIX}/workspace-kind"] = workspace.kind
    labels[f"{LABEL_PREFIX}/workspace"] = (
        "personal" if workspace.kind == "personal" else server_name(workspace.id)
    )
    if workspace.kind == "organization" and len(workspace.id) <= 63:
        labels[f"{LABEL_PREFIX}/organization"] = workspace.id
    spawner.extra_labels = labels
    spawner.automount_service_account_token = False
    if not spawner.cmd:  # KubeSpawner drops `args` when the image's own command is used
        spawner.cmd = ["jupyterhub-singleuser"]
    spawner.notebook_dir = mount_path


def _show_organization_name(spawner: Any, name: str) -> None:
    """The Hub's home page lists the server by the organization's name, not its digest."""
    orm_spawner = getattr(spawner, "orm_spawner", None)
    display = normalise_unicode(name)[:255]
    if orm_spawner is not None and is_valid_display_name(display):
        orm_spawner.display_name = display


async def prepare_spawner(authenticator: Any, user: Any, spawner: Any) -> None:
    memberships = await authenticator.memberships.memberships(user.name)
    workspace = workspace_for(
        spawner.name,
        dict(spawner.user_options or {}),
        user.name,
        memberships,
        authenticator.personal_workspaces,
    )
    if workspace.kind == "organization":
        spawner.user_options = {**(spawner.user_options or {}), "org": workspace.id}
        _show_organization_name(spawner, memberships[workspace.id].organization_name)
    writable = "write" in workspace_actions(workspace, authenticator.role_actions)
    _strip_secrets(spawner)
    spawner.environment = {
        **spawner.environment,
        WORKSPACE_ENV: encode_workspace(workspace),
        ROLE_ACTIONS_ENV: encode_value(authenticator.role_actions),
    }
    hub_check = f"{HUB_CHECK_CACHE_ARG}={authenticator.server_token_cache_seconds}"
    ours = (*SINGLEUSER_ARGS, hub_check)
    kept = [a for a in spawner.args if a not in ours and not a.startswith(HUB_CHECK_CACHE_ARG)]
    spawner.args = [*kept, *ours]
    if hasattr(spawner, "volume_mounts") and hasattr(spawner, "extra_labels"):
        _configure_kubespawner(spawner, workspace, writable, authenticator.kube_mount_path)
    elif authenticator.workspaces_root:
        spawner.notebook_dir = workspace_root(authenticator.workspaces_root, workspace.relative_dir)
