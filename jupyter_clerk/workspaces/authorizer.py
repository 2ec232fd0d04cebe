"""ClerkAuthorizer: organization roles and permissions decide read, write and execute.

Jupyter asks `is_authorized(handler, user, action, resource)` with action read/write/execute.
A workspace grants a set of actions; each resource says which action it really needs (starting
a kernel is running code, whatever the HTTP method). Unknown resources are refused.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.services.api.handlers import IdentityHandler
from tornado import web
from traitlets import Dict, List, Unicode

from ..clerk_api.models import Membership
from .resolution import Workspace, membership_workspace

ACTIONS = ("read", "write", "execute")
DEFAULT_ROLE_ACTIONS = {
    "org:admin": ["read", "write", "execute"],
    "org:member": ["read", "write", "execute"],
}
JUPYTER_PERMISSIONS = {f"org:jupyter:{action}": action for action in ACTIONS}

# Resources whose every use runs code in the workspace.
CODE_RESOURCES = frozenset({"kernels", "sessions", "lsp"})
# Resources that follow the request's action against the workspace's files.
FILE_RESOURCES = frozenset({"contents", "files", "nbconvert"})
# Harmless descriptions of the server, readable by anyone signed in.
READ_ONLY_RESOURCES = frozenset({"api", "kernelspecs", "csp", "config", "me"})
# Server-wide controls and broadcasts: server administrators only. (Reading "events" is the
# per-workspace stream of `events.py`, open to anyone who may read the workspace.)
SERVER_RESOURCES = frozenset({"server", "events"})
# What a refused action would have done, in plain words.
_REFUSED = {
    "write": "create, change or delete files",
    "execute": "run code (start kernels)",
    "read": "open files",
}


class RoleRefusal(web.HTTPError):
    """A 403 that says who refused what, instead of Jupyter's stock resource message.

    The text is the log message itself, which JSON error bodies carry as they are; it holds
    no `%`, since Tornado also uses it as a format string when it logs the refusal.
    """

    def __init__(self, workspace: Workspace, action: str) -> None:
        role = (workspace.role or "member").removeprefix("org:").replace("%", "")
        where = (workspace.slug or workspace.id).replace("%", "")
        article = "an" if role[:1] in "aeiou" else "a"
        super().__init__(
            403,
            f"You are {article} {role} in the organization {where}: your role cannot "
            f"{_REFUSED[action]} here. Ask an admin of {where} for another role.",
        )


def workspace_actions(workspace: Workspace, role_actions: dict[str, list[str]]) -> frozenset[str]:
    """What a workspace lets its member do: Clerk's org:jupyter:* permissions win when present."""
    if workspace.kind == "personal":
        return frozenset(ACTIONS)
    granted = {JUPYTER_PERMISSIONS[p] for p in workspace.permissions if p in JUPYTER_PERMISSIONS}
    if granted:
        return frozenset(granted)
    return frozenset(role_actions.get(workspace.role or "", ["read"]))


def membership_actions(
    membership: Membership, role_actions: dict[str, list[str]] = DEFAULT_ROLE_ACTIONS
) -> frozenset[str]:
    """What a membership as Clerk reports it now lets its holder do in that organization."""
    return workspace_actions(membership_workspace(membership), role_actions)


def socket_needs(handler: Any) -> frozenset[str]:
    """What an open WebSocket keeps needing: running code for kernels, terminals and language
    servers, reading for the events stream. Any other (an extension's, which may write through
    its socket as a collaborative document's room does) keeps needing every right it opened with."""
    resource = getattr(handler, "auth_resource", None)
    if resource in CODE_RESOURCES or resource == "terminals":
        return frozenset({"execute"})
    if resource == "events":
        return frozenset({"read"})
    return frozenset(ACTIONS)


def _require_terminal_access(handler: Any) -> None:
    """A terminal in the URL (API or WebSocket) must be the caller's: 404 otherwise."""
    args = getattr(handler, "path_args", None) or []
    name = getattr(handler, "path_kwargs", {}).get("name") or (args[0] if args else None)
    manager = getattr(handler, "terminal_manager", None) or getattr(handler, "term_manager", None)
    require = getattr(manager, "require_access", None)
    if name is not None and require is not None:
        require(name)


def _named_kernel(handler: Any) -> str | None:
    """The kernel a session or kernel request names. A body of the wrong shape is refused
    here: Jupyter's handlers would read it blindly and answer 500."""
    try:
        body = handler.get_json_body()
    except web.HTTPError:  # malformed JSON is the handler's to refuse, with its own 400
        return None
    if body is None:
        return None
    if not isinstance(body, dict):
        raise web.HTTPError(400, "The request body is a JSON object.")
    kernel = body.get("kernel", {})
    if not isinstance(kernel, dict):
        raise web.HTTPError(400, "A session's kernel is a JSON object.")
    kernel_id = kernel.get("id") if "kernel" in body else body.get("kernel_id")
    return kernel_id if isinstance(kernel_id, str) else None


def role_actions_trait(extra_help: str = "") -> Dict:
    """The role mapping's trait, shared by this authorizer and the Hub (which sends its
    mapping to the single-user servers), so that both read one definition."""
    return Dict(
        key_trait=Unicode(),
        value_trait=List(Unicode()),
        default_value=DEFAULT_ROLE_ACTIONS,
        help="Actions each organization role grants when the member has no org:jupyter:* "
        "permission. Any other role can read only." + extra_help,
    ).tag(config=True)


class ClerkAuthorizer(Authorizer):
    role_actions = role_actions_trait()
    server_admins = List(
        Unicode(),
        help="Clerk user ids allowed to shut the server down, change shared configuration and "
        "watch server-wide events.",
    ).tag(config=True)
    terminal_roles = List(
        Unicode(),
        default_value=["org:admin"],
        help="Organization roles allowed to open terminals (when terminals are enabled). "
        "A personal workspace's owner always may.",
    ).tag(config=True)

    @staticmethod
    def _require_kernel_access(handler: Any) -> None:
        """A kernel in the URL must be the caller's (404 otherwise, as if it did not exist).

        Checked here because Jupyter turns any error inside a restart into a 500. Seeing and
        stopping a kernel is allowed to organization admins; using it only to its owner.
        """
        require = getattr(handler.kernel_manager, "require_access", None)
        if require is None:
            return
        method = handler.request.method
        kernel_id = getattr(handler, "path_kwargs", {}).get("kernel_id")
        if kernel_id is not None:
            require(kernel_id, use=method not in ("GET", "HEAD", "DELETE"))
        elif method in ("POST", "PATCH"):
            # A session (or kernel) request may name an existing kernel to attach to.
            kernel_id = _named_kernel(handler)
            if kernel_id is not None and kernel_id in handler.kernel_manager:
                require(kernel_id, use=True)

    @staticmethod
    def _refuse(handler: Any, workspace: Workspace, action: str) -> bool:
        """Refuses in plain words; `/api/me?permissions=` only asks, so it gets a plain False."""
        if workspace.kind == "organization" and not isinstance(handler, IdentityHandler):
            raise RoleRefusal(workspace, action)
        return False

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        workspace = getattr(user, "workspace", None)
        if not isinstance(workspace, Workspace) or action not in ACTIONS:
            return False
        granted = workspace_actions(workspace, self.role_actions)
        if resource == "events" and action == "read":
            return "read" in granted
        if resource in SERVER_RESOURCES or (resource == "config" and action != "read"):
            return user.username in self.server_admins
        if resource in READ_ONLY_RESOURCES:
            return action == "read"
        if resource in FILE_RESOURCES:
            return action in granted or self._refuse(handler, workspace, action)
        if resource in CODE_RESOURCES:
            needed = "execute" if action != "read" else "read"
            if needed not in granted:
                return self._refuse(handler, workspace, needed)
            if resource in ("kernels", "sessions"):
                self._require_kernel_access(handler)
            return True
        if resource == "terminals":
            allowed_role = workspace.kind == "personal" or workspace.role in self.terminal_roles
            allowed = allowed_role and "execute" in granted
            if allowed:
                _require_terminal_access(handler)
            return allowed
        return False
