"""Kernels and sessions owned by (person, workspace), invisible to everyone else.

Jupyter keeps one kernel table and one session table for the whole server, reuses a kernel
when a client names its id, and keys sessions by path: all takeovers across tenants unless
every lookup is filtered by owner. A foreign kernel or session answers exactly as a missing
one does (same status, same text), so that ids cannot be probed; a client names only its own
kernels, never the id of a new one. Outside requests (culler, restarter, shutdown) nothing is
filtered, so they keep working.
"""

from __future__ import annotations

import contextvars
import os
import posixpath
import uuid
from typing import Any

from jupyter_client.kernelspec import NoSuchKernel
from jupyter_server import CallContext
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from jupyter_server.services.sessions.sessionmanager import SessionManager
from jupyter_server.utils import to_os_path
from tornado import web
from traitlets import List, Unicode

from .kernel_env import scrub_environment
from .resolution import (
    Owner,
    WorkspaceRequired,
    current_owner,
    current_workspace,
    request_context_active,
    workspace_directory,
)

ADMIN_ROLE = "org:admin"
# Set while an organization admin shuts down a member's kernel: the one foreign action allowed.
_admin_shutdown = contextvars.ContextVar("jupyter_clerk_admin_shutdown", default=False)


# Longest session path or name accepted: far beyond real use, short of file-name limits.
MAX_SESSION_FIELD = 1024


def _not_found(kernel_id: str) -> web.HTTPError:
    return web.HTTPError(404, f"Kernel does not exist: {kernel_id}")


def require_kernel_id(kernel_id: Any) -> str:
    """A kernel id from a client is a UUID: anything else would reach file names (400)."""
    try:
        valid = isinstance(kernel_id, str) and str(uuid.UUID(kernel_id)) == kernel_id
    except ValueError:
        valid = False
    if not valid:
        raise web.HTTPError(400, "A kernel id is a UUID.")
    return kernel_id


def _check_session_path(path: Any) -> None:
    if not isinstance(path, str) or not 0 < len(path) <= MAX_SESSION_FIELD:
        raise web.HTTPError(400, "A session's path is a non-empty string.")
    normal = posixpath.normpath(path)
    if path.startswith("/") or normal == ".." or normal.startswith("../"):
        raise web.HTTPError(400, "A session's path stays in the workspace.")


def _check_short_text(value: Any) -> None:
    if value is not None and (not isinstance(value, str) or len(value) > MAX_SESSION_FIELD):
        raise web.HTTPError(400, "A session's name and type are short strings.")


def _session_not_found(query: dict[str, Any]) -> web.HTTPError:
    """Jupyter's own answer for a missing session, given for someone else's too."""
    described = ", ".join(f"{key}={value!r}" for key, value in query.items())
    return web.HTTPError(404, f"Session not found: {described}")


class WorkspaceKernelManager(AsyncMappingKernelManager):
    """Kernels start in the caller's workspace and answer only to their owner."""

    secret_environment_patterns = List(
        Unicode(),
        help="More environment variable patterns (fnmatch) kept from kernels, besides CLERK_*, "
        "JUPYTER_TOKEN and *_SECRET*.",
    ).tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._owners: dict[str, Owner] = {}
        self._folders: dict[str, str] = {}

    def owner_of(self, kernel_id: str) -> Owner | None:
        return self._owners.get(kernel_id)

    def __contains__(self, kernel_id: object) -> bool:
        # Jupyter asks "is this a kernel?" before attaching a session to it or answering
        # "No such kernel": someone else's kernel must look like a missing one there too.
        if not super().__contains__(kernel_id):
            return False
        return not request_context_active() or self._visible(str(kernel_id))

    def api_folder(self, kernel_id: str) -> str | None:
        """The workspace folder (API path) the caller's kernel started in; None if not theirs."""
        if self._owners.get(kernel_id) != current_owner():
            return None
        return self._folders.get(kernel_id)

    def cwd_for_path(self, path: str, **kwargs: Any) -> str:
        root = str(workspace_directory(self.root_dir, current_workspace()))
        os_path = os.path.realpath(to_os_path(path, root))
        if os_path != root and not os_path.startswith(root + os.sep):
            raise WorkspaceRequired()
        while not os.path.isdir(os_path) and os_path != root:
            os_path = os.path.dirname(os_path)
        return os_path

    async def start_kernel(  # type: ignore[override]
        self, *, kernel_id: str | None = None, path: str | None = None, **kwargs: Any
    ) -> str:
        owner = current_owner()
        if kernel_id is not None and request_context_active():
            # A client may name its own kernel, never a new id: a free id and someone else's
            # (perhaps still starting) get the same 404.
            require_kernel_id(kernel_id)
            if self._owners.get(kernel_id) != owner:
                raise _not_found(kernel_id)
            if kernel_id in self._kernels:
                return kernel_id
        if not isinstance(kwargs.get("kernel_name") or "", str):
            raise web.HTTPError(400, "A kernel name is a string.")
        kernel_id = kernel_id or self.new_kernel_id()
        folder = path if isinstance(path, str) else ""
        kwargs["env"] = scrub_environment(
            kwargs.get("env") or os.environ, self.secret_environment_patterns, parent=self
        )
        self._owners[kernel_id] = owner  # before the start: Jupyter looks the kernel up midway
        self._folders[kernel_id] = folder
        try:
            # Without a path Jupyter would start the kernel in the server's own directory.
            return await super().start_kernel(kernel_id=kernel_id, path=folder, **kwargs)
        except NoSuchKernel:
            self._forget(kernel_id, owner)
            raise web.HTTPError(400, "No such kernel specification.") from None
        except BaseException:
            self._forget(kernel_id, owner)
            raise

    def _forget(self, kernel_id: str, owner: Owner) -> None:
        if kernel_id not in self._kernels and self._owners.get(kernel_id) == owner:
            del self._owners[kernel_id]
            self._folders.pop(kernel_id, None)

    def _visible(self, kernel_id: str) -> bool:
        owner = self._owners.get(kernel_id)
        if owner is None:
            return False
        caller = current_owner()
        if owner == caller:
            return True
        workspace = current_workspace()
        return (
            workspace.kind == "organization"
            and workspace.role == ADMIN_ROLE
            and owner.workspace == caller.workspace
        )

    def _check_kernel_id(self, kernel_id: str) -> None:
        """Existence as the caller may see it: their own kernels (an org admin: the org's)."""
        super()._check_kernel_id(kernel_id)
        if request_context_active() and not self._visible(kernel_id):
            raise _not_found(kernel_id)

    def get_kernel(self, kernel_id: str) -> Any:
        """The kernel itself (connect, interrupt, restart): its owner only."""
        if (
            request_context_active()
            and not _admin_shutdown.get()
            and self._owners.get(kernel_id) != current_owner()
        ):
            raise _not_found(kernel_id)
        return super().get_kernel(kernel_id)

    async def shutdown_kernel(  # type: ignore[override]
        self, kernel_id: str, now: bool = False, restart: bool = False
    ) -> None:
        if request_context_active():
            self._check_kernel_id(kernel_id)
        token = _admin_shutdown.set(True)
        try:
            await super().shutdown_kernel(kernel_id, now=now, restart=restart)
        finally:
            _admin_shutdown.reset(token)

    def require_access(self, kernel_id: str, *, use: bool) -> None:
        """For the authorizer: 404 unless the caller may see (or use) this kernel."""
        if use:
            self.get_kernel(kernel_id)
        else:
            self._check_kernel_id(kernel_id)

    def remove_kernel(self, kernel_id: str) -> Any:
        self._owners.pop(kernel_id, None)
        self._folders.pop(kernel_id, None)
        return super().remove_kernel(kernel_id)


class WorkspaceSessionManager(SessionManager):
    """Sessions stored under their owner, so equal paths of two people never meet."""

    @staticmethod
    def _scoped(path: str | None) -> str | None:
        return None if path is None else f"{current_owner().key}:{path}"

    async def session_exists(self, path: str) -> bool:
        # Jupyter's handler asks this first, and turns every error of create_session into
        # a 500: a new session's request is checked here, where a 400 stays a 400.
        _check_session_path(path)
        handler = CallContext.get(CallContext.JUPYTER_HANDLER)
        model = handler.get_json_body() if handler is not None else None
        if isinstance(model, dict):
            self._check_new_session(model)
        return await super().session_exists(self._scoped(path))

    def _check_new_session(self, model: dict[str, Any]) -> None:
        _check_short_text(model.get("name"))
        _check_short_text(model.get("type"))
        kernel = model.get("kernel") or {}
        if not isinstance(kernel, dict):
            raise web.HTTPError(400, "A session's kernel is an object.")
        kernel_id = kernel.get("id")
        if kernel_id is not None:
            # Attaching to a kernel is for its owner; someone else's reads as missing.
            require_kernel_id(kernel_id)
            if kernel_id not in self.kernel_manager:
                raise _not_found(kernel_id)
            self.kernel_manager.get_kernel(kernel_id)
        name = kernel.get("name")
        known = self.kernel_manager.kernel_spec_manager.find_kernel_specs()
        if name is not None and (not isinstance(name, str) or name not in known):
            raise web.HTTPError(400, "No such kernel specification.")

    async def create_session(
        self,
        path: str | None = None,
        name: str | None = None,
        type: str | None = None,
        kernel_name: str | None = None,
        kernel_id: str | None = None,
    ) -> dict[str, Any]:
        if kernel_id is not None and kernel_id in self.kernel_manager:
            self.kernel_manager.get_kernel(kernel_id)  # attaching to a kernel: owner only
        return await super().create_session(path, name, type, kernel_name, kernel_id)

    async def save_session(self, session_id: str, path: str | None = None, **kwargs: Any) -> Any:
        return await super().save_session(session_id, path=self._scoped(path), **kwargs)

    async def get_session(self, **kwargs: Any) -> dict[str, Any]:
        query = dict(kwargs)
        if "path" in kwargs:
            kwargs["path"] = self._scoped(kwargs["path"])
        try:
            return await super().get_session(**kwargs)
        except web.HTTPError as error:
            if error.status_code == 404:
                raise _session_not_found(query) from None
            raise

    async def update_session(self, session_id: str, **kwargs: Any) -> None:
        await self.get_session(session_id=session_id)
        if "path" in kwargs:
            _check_session_path(kwargs["path"])
            kwargs["path"] = self._scoped(kwargs["path"])
        _check_short_text(kwargs.get("name"))
        _check_short_text(kwargs.get("type"))
        if kwargs.get("kernel_id") is not None:
            self.kernel_manager.get_kernel(kwargs["kernel_id"])
        await super().update_session(session_id, **kwargs)

    async def row_to_model(self, row: Any, tolerate_culled: bool = False) -> Any:
        parts = str(row["path"]).split(":", 2)
        if len(parts) != 3:
            raise KeyError("session has no owner")
        user_id, workspace, path = parts
        if request_context_active() and f"{user_id}:{workspace}" != current_owner().key:
            raise KeyError("session belongs to someone else")
        model = await super().row_to_model(row, tolerate_culled=tolerate_culled)
        if model is not None:
            model["path"] = path
            if "notebook" in model:
                model["notebook"]["path"] = path
        return model

    def get_kernel_env(self, path: str | None, name: Any = None) -> dict[str, str]:
        return scrub_environment(
            super().get_kernel_env(path, name),
            self.kernel_manager.secret_environment_patterns,
            parent=self.kernel_manager,
        )
