"""A contents manager whose root is the current request's workspace, and nothing else.

Jupyter's file managers read `root_dir` everywhere (paths, hidden checks, checkpoints), so
the root itself is made per-request: with no workspace known it refuses, and there is no
fallback to the server root. Resolved paths are checked too: Jupyter follows symlinks.
"""

from __future__ import annotations

import errno
import os
from typing import Any

from jupyter_server import CallContext
from jupyter_server.files.handlers import FilesHandler
from jupyter_server.services.contents.filecheckpoints import AsyncFileCheckpoints
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado import web
from traitlets import default

from .authorizer import ClerkAuthorizer, workspace_actions
from .file_errors import ClearFileErrors
from .resolution import current_workspace, workspace_root
from .trust import WorkspaceTrust


class OutsideWorkspace(web.HTTPError, PermissionError):
    """A path that leaves the workspace. Also a PermissionError, so that a directory listing
    skips a symlink pointing out instead of failing as a whole."""

    def __init__(self) -> None:
        web.HTTPError.__init__(self, 404, "No such file in this workspace.")
        self.errno = errno.EACCES


def stays_inside(root: str, os_path: str) -> bool:
    """Whether `os_path` (lexically under the resolved `root`) stays there once symlinks are
    followed. Only the components below the root are looked at: the root is resolved."""
    if os_path == root:
        return True
    prefix = root + os.sep
    if not os_path.startswith(prefix):
        return False
    current = root
    for part in os_path[len(prefix) :].split(os.sep):
        if not part:
            continue
        current = current + os.sep + part
        if os.path.islink(current):
            real = os.path.realpath(os_path)
            return real == root or real.startswith(prefix)
    return True


def _server_root(configurable: Any) -> str:
    parent = configurable.parent
    while parent is not None and not hasattr(parent, "contents_manager_class"):
        parent = parent.parent
    if parent is None:
        raise OutsideWorkspace()
    return parent.root_dir


# What start-up code (which reads root_dir once, for display) sees: a path that does not
# exist, so anything that tried to use it outside a request would find nothing.
NO_WORKSPACE = "/nonexistent/jupyter-clerk-no-workspace"


class WorkspaceRoot:
    """`root_dir` is the workspace directory of the request being handled."""

    @property
    def root_dir(self) -> str:
        return self._request_paths()[0]

    def _request_paths(self) -> tuple[str, dict[str, bool]]:
        """The request's workspace root and the paths already found to stay inside it.

        Kept on the handler: Jupyter reads the root hundreds of times per directory listing.
        """
        handler = CallContext.get(CallContext.JUPYTER_HANDLER)
        if handler is None:
            return NO_WORKSPACE, {}
        cached = getattr(handler, "_clerk_workspace_paths", None)
        if cached is None:
            workspace = current_workspace()
            server_root = getattr(self, "_clerk_server_root", None)
            if server_root is None:
                server_root = self._clerk_server_root = _server_root(self)
            cached = (workspace_root(server_root, workspace.relative_dir), {})
            handler._clerk_workspace_paths = cached
        return cached

    def _get_os_path(self, path: str) -> str:
        if "\\" in path or "\0" in path:
            raise OutsideWorkspace()
        os_path = super()._get_os_path(path)  # type: ignore[misc]
        root, checked = self._request_paths()
        inside = checked.get(os_path)
        if inside is None:
            inside = checked[os_path] = stays_inside(root, os_path)
        if not inside:
            raise OutsideWorkspace()
        return os_path


class WorkspaceCheckpoints(WorkspaceRoot, AsyncFileCheckpoints):
    """Checkpoints live beside their files, inside the workspace.

    Jupyter appends `.ipynb_checkpoints` after checking the file's folder, and falls back to
    a temporary directory shared by everyone: the final path is checked again."""

    def checkpoint_path(self, checkpoint_id: str, path: str) -> str:
        checkpoint = super().checkpoint_path(checkpoint_id, path)
        if not stays_inside(self.root_dir, checkpoint):
            raise OutsideWorkspace()
        return checkpoint


class WorkspaceContentsManager(
    ClearFileErrors, WorkspaceTrust, WorkspaceRoot, AsyncLargeFileManager
):
    """Everything Jupyter's contents API does, inside the request's workspace."""

    @default("checkpoints_class")
    def _checkpoints_class_default(self) -> type:
        return WorkspaceCheckpoints

    @default("files_handler_class")
    def _files_handler_class_default(self) -> type:
        # The stock /files/ handler is a static handler rooted once at start-up.
        return FilesHandler

    @default("files_handler_params")
    def _files_handler_params_default(self) -> dict[str, Any]:
        # FilesHandler reads through the contents manager; its static root is never used.
        return {"path": NO_WORKSPACE}

    async def _copy_dir(
        self, from_path: str, to_path_original: str, to_name: str, to_path: str
    ) -> dict[str, Any]:
        # Jupyter copies folders following their links: a link to another workspace (or to
        # /proc) would be copied as real files.
        for folder, subfolders, files in os.walk(self._get_os_path(from_path.strip("/"))):
            if any(os.path.islink(os.path.join(folder, n)) for n in (*subfolders, *files)):
                raise web.HTTPError(400, "A folder that contains links cannot be copied.")
        return await super()._copy_dir(from_path, to_path_original, to_name, to_path)

    def _base_model(self, path: str) -> dict[str, Any]:
        # `writable` is per person: JupyterLab then marks documents read-only and never
        # tries to save them, instead of failing on every autosave.
        model = super()._base_model(path)
        if model.get("writable") and not self._person_may_write():
            model["writable"] = False
        return model

    @staticmethod
    def _person_may_write() -> bool:
        handler = CallContext.get(CallContext.JUPYTER_HANDLER)
        authorizer = getattr(handler, "authorizer", None)
        if not isinstance(authorizer, ClerkAuthorizer):
            return True  # the file system's answer stands; the authorizer still decides
        return "write" in workspace_actions(current_workspace(), authorizer.role_actions)

    def info_string(self) -> str:
        return f"Serving workspaces from {_server_root(self)}/users/… and …/orgs/…"
