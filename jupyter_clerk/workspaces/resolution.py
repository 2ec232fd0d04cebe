"""Workspaces: the personal space or the organization a request works in, and its directory.

A tab asks for its workspace explicitly (a header, or a query parameter on WebSocket
upgrades, where browsers cannot set headers) so that tabs in different organizations do not
depend on the session's *active* organization. Directories are keyed by validated ids,
never by slugs, which can be renamed.
"""

from __future__ import annotations

import functools
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from jupyter_server import CallContext
from tornado import web
from tornado.httputil import HTTPServerRequest

from ..auth.claims import ORG_ID, USER_ID, Organization, valid_id
from ..auth.credentials import is_websocket_upgrade
from ..clerk_api.memberships import MembershipCache
from ..clerk_api.models import Membership

WORKSPACE_HEADER = "X-Clerk-Workspace"
WORKSPACE_QUERY = "workspace"
PERSONAL = "personal"

Kind = Literal["personal", "organization"]


class WorkspaceRequired(web.HTTPError):
    """No workspace is known here: refuse rather than fall back to the server root."""

    def __init__(self) -> None:
        super().__init__(403, "No workspace for this request.")


@dataclass(frozen=True)
class Workspace:
    kind: Kind
    id: str
    slug: str | None = None
    role: str | None = None
    permissions: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        pattern = USER_ID if self.kind == "personal" else ORG_ID
        if not valid_id(pattern, self.id):
            raise ValueError("a workspace id must be a Clerk id")

    @property
    def relative_dir(self) -> str:
        return f"users/{self.id}" if self.kind == "personal" else f"orgs/{self.id}"

    @property
    def requested_as(self) -> str:
        return PERSONAL if self.kind == "personal" else self.id


def requested_workspace(request: HTTPServerRequest) -> str | None:
    """The workspace a request names, checked for shape; None when it names none."""
    values = request.headers.get_list(WORKSPACE_HEADER)
    if not values and is_websocket_upgrade(request):
        values = [
            v.decode("utf-8", "replace") for v in request.query_arguments.get(WORKSPACE_QUERY, [])
        ]
    if not values:
        return None
    if len(values) > 1:
        raise web.HTTPError(400, "Name one workspace per request.")
    value = values[0].strip()
    if value != PERSONAL and not valid_id(ORG_ID, value):
        raise web.HTTPError(400, "A workspace is 'personal' or an organization id (org_…).")
    return value


def current_workspace() -> Workspace:
    """The workspace of the request being handled; refuses when there is none."""
    handler = CallContext.get(CallContext.JUPYTER_HANDLER)
    workspace = getattr(getattr(handler, "current_user", None), "workspace", None)
    if not isinstance(workspace, Workspace):
        raise WorkspaceRequired()
    return workspace


def request_context_active() -> bool:
    """Whether code runs for a request (as opposed to the culler, restarter or shutdown)."""
    return CallContext.get(CallContext.JUPYTER_HANDLER) is not None


def workspace_directory(server_root: str | os.PathLike[str], workspace: Workspace) -> Path:
    """The workspace's directory, created owner-only on first use."""
    return Path(workspace_root(os.fspath(server_root), workspace.relative_dir))


def workspace_root(server_root: str, relative_dir: str) -> str:
    """`workspace_directory` as a resolved string, for paths that read it many times.

    The resolution is cached, and re-checked on every call: a workspace folder (or its
    `users`/`orgs` parent) replaced by a link since is refused, never followed."""
    root = _resolved_root(server_root, relative_dir)
    try:
        modes = [os.lstat(path).st_mode for path in (os.path.dirname(root), root)]
    except FileNotFoundError:  # removed since: made again
        _resolved_root.cache_clear()
        return _resolved_root(server_root, relative_dir)
    if not all(stat.S_ISDIR(mode) for mode in modes):
        _resolved_root.cache_clear()
        raise WorkspaceRequired()
    return root


@functools.lru_cache(maxsize=4096)
def _resolved_root(server_root: str, relative_dir: str) -> str:
    root = Path(server_root).resolve()
    directory = root / relative_dir
    if not directory.is_dir():
        directory.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.mkdir(mode=0o700, exist_ok=True)
    resolved = directory.resolve()
    if resolved != root / relative_dir:  # a planted symlink must not move a workspace
        raise WorkspaceRequired()
    return str(resolved)


class NotAMember(web.HTTPError):
    def __init__(self) -> None:
        super().__init__(403, "You are not a member of this organization.")


class PersonalDisabled(web.HTTPError):
    def __init__(self) -> None:
        super().__init__(
            403, "Personal workspaces are turned off here: open one of your organizations."
        )


async def resolve_workspace(
    user_id: str,
    token_organization: Organization | None,
    requested: str | None,
    *,
    personal_enabled: bool,
    memberships: MembershipCache | None,
) -> Workspace:
    """The token's organization costs nothing; any other one is checked with Clerk."""
    if requested is None:
        requested = token_organization.id if token_organization else PERSONAL
    if requested == PERSONAL:
        if not personal_enabled:
            raise PersonalDisabled()
        return Workspace("personal", user_id)
    if token_organization is not None and token_organization.id == requested:
        return Workspace(
            "organization",
            requested,
            slug=token_organization.slug,
            role=token_organization.role,
            permissions=token_organization.permissions,
        )
    if memberships is None:
        raise NotAMember()  # no Backend API configured: only the token's own org is provable
    membership = await memberships.membership(user_id, requested)
    if membership is None:
        raise NotAMember()
    return membership_workspace(membership)


def membership_workspace(membership: Membership) -> Workspace:
    """The organization workspace a membership, as Clerk reports it, gives its holder."""
    return Workspace(
        "organization",
        membership.organization_id,
        slug=membership.organization_slug,
        role=membership.role,
        permissions=membership.permissions,
    )


@dataclass(frozen=True)
class Owner:
    """Who a kernel or session belongs to: one person, in one workspace."""

    user_id: str
    workspace: str

    @property
    def key(self) -> str:
        return f"{self.user_id}:{self.workspace}"


def current_owner() -> Owner:
    handler = CallContext.get(CallContext.JUPYTER_HANDLER)
    user_id = getattr(getattr(handler, "current_user", None), "username", None)
    workspace = current_workspace()
    if not valid_id(USER_ID, user_id):
        raise WorkspaceRequired()
    return Owner(user_id, workspace.relative_dir)
