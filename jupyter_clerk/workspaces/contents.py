"""A contents manager whose root is the current request's workspace, and nothing else.

Jupyter's file managers read `root_dir` and build paths everywhere. Here every path they get
names a folder opened from the workspace root without following a link out of it
(`pinned.py`), and every operation that would follow a link at the final name is done with
`*at` calls on those descriptors instead. With no workspace known it refuses: there is no
fallback to the server root.
"""

from __future__ import annotations

import base64
import errno
import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from anyio.to_thread import run_sync
from jupyter_server import CallContext
from jupyter_server import _tz as tz
from jupyter_server.services.contents.filecheckpoints import AsyncFileCheckpoints
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado import web
from traitlets import Int, TraitError, default, validate

from ..settings_env import env_str
from .authorizer import ClerkAuthorizer, workspace_actions
from .file_errors import ClearFileErrors, clear_file_errors
from .files_handler import WorkspaceFilesHandler
from .listing import accessible, base_model, entry_model, scan
from .pinned import OutsideWorkspace, RequestFiles, attach, open_workspace_root
from .resolution import current_workspace, workspace_root
from .safe_fs import (
    DIRECTORY,
    NotRegular,
    TreeTooLarge,
    commit_leaf,
    copy_leaf,
    copy_tree,
    open_leaf,
    tree,
    write_leaf,
)
from .trust import WorkspaceTrust

MAX_BYTES_ENV = "CLERK_CONTENTS_MAX_BYTES"

# What start-up code (which reads root_dir once, for display) sees: a path that does not
# exist, so anything that tried to use it outside a request would find nothing.
NO_WORKSPACE = "/nonexistent/jupyter-clerk-no-workspace"


def _server_root(configurable: Any) -> str:
    parent = configurable.parent
    while parent is not None and not hasattr(parent, "contents_manager_class"):
        parent = parent.parent
    if parent is None:
        raise OutsideWorkspace()
    return parent.root_dir


class NotAFileOrFolder(web.HTTPError):
    def __init__(self) -> None:
        super().__init__(400, "Only files and folders can be opened here.")


@contextmanager
def _refusing_special_files() -> Iterator[None]:
    try:
        yield
    except NotRegular:
        raise NotAFileOrFolder() from None
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENXIO):  # a link swapped in; a FIFO (writing)
            raise OutsideWorkspace() from None
        raise


class WorkspaceRoot:
    """Paths of the request being handled, pinned under its workspace root."""

    # What resolves paths: the hostile-tenant tests swap in a check-then-use one to show
    # that their attacks succeed without this protection.
    request_files_class: type[RequestFiles] = RequestFiles

    @property
    def root_dir(self) -> str:
        if CallContext.get(CallContext.JUPYTER_HANDLER) is None:
            return NO_WORKSPACE
        return self._request_files().jupyter_root

    def _request_files(self) -> RequestFiles:
        handler = CallContext.get(CallContext.JUPYTER_HANDLER)
        if handler is None:
            raise OutsideWorkspace()
        files = getattr(handler, "_clerk_request_files", None)
        if files is None or files.closed:  # closed: a task that outlived its request
            workspace = current_workspace()
            server_root = getattr(self, "_clerk_server_root", None)
            if server_root is None:
                server_root = self._clerk_server_root = _server_root(self)
            root_fd = open_workspace_root(server_root, workspace.relative_dir)
            files = self.request_files_class(
                root_fd, workspace_root(server_root, workspace.relative_dir)
            )
            handler._clerk_request_files = files
            attach(handler, files)
        return files

    def _get_os_path(self, path: str) -> str:
        if "\\" in path or "\0" in path:
            raise OutsideWorkspace()
        path = path.strip("/")
        if not getattr(self, "allow_hidden", True) and any(
            part.startswith(".") for part in path.split("/")[:-1]
        ):
            raise web.HTTPError(404, "No such file or directory.")
        # Handlers such as nbconvert call this directly: its OS errors must be clear 4xx too.
        with clear_file_errors():
            return self._request_files().pin(path)

    @contextmanager
    def open(self, os_path: str, mode: str = "r", **kwargs: Any) -> Iterator[Any]:
        """Jupyter reads every file through here: links and special files refused, and
        nothing larger than what one response may carry."""
        dir_fd, name = self._request_files().entry(os_path)
        if "r" not in mode or "+" in mode:
            raise OutsideWorkspace()
        with self.perm_to_403(os_path), _refusing_special_files():  # type: ignore[attr-defined]
            fd = open_leaf(dir_fd, name, os.O_RDONLY)
        limit = getattr(self, "max_response_bytes", 0)
        if limit and os.fstat(fd).st_size > limit:
            os.close(fd)
            raise web.HTTPError(
                413,
                f"This file is larger than {limit} bytes, the most one response may carry "
                "here: download it through /files/ instead.",
            )
        with open(fd, mode, **kwargs) as f:
            yield f

    @contextmanager
    def atomic_writing(
        self, os_path: str, text: bool = True, encoding: str = "utf-8", **kwargs: Any
    ) -> Iterator[Any]:
        """Writes go to a new file renamed over the old one (a link there is replaced,
        not followed) or, with atomic writing off, to the file opened without following."""
        dir_fd, name = self._request_files().entry(os_path)
        kwargs.pop("log", None)
        with self.perm_to_403(os_path), _refusing_special_files():  # type: ignore[attr-defined]
            fd, temporary = write_leaf(dir_fd, name, atomic=self.use_atomic_writing)  # type: ignore[attr-defined]
            ok = False
            try:
                mode = "w" if text else "wb"
                with open(fd, mode, encoding=encoding if text else None, **kwargs) as f:
                    yield f
                    f.flush()
                    os.fsync(f.fileno())
                ok = True
            finally:
                commit_leaf(dir_fd, name, temporary, ok)

    async def _copy(self, src: str, dest: str) -> None:
        files = self._request_files()
        with self.perm_to_403(src), _refusing_special_files():  # type: ignore[attr-defined]
            await run_sync(copy_leaf, *files.entry(src), *files.entry(dest))


class WorkspaceCheckpoints(WorkspaceRoot, AsyncFileCheckpoints):
    """Checkpoints live beside their files, inside the workspace, reached the same way."""

    def checkpoint_path(self, checkpoint_id: str, path: str) -> str:
        parent, _, name = path.strip("/").rpartition("/")
        basename, ext = os.path.splitext(name)
        folder = f"{parent}/{self.checkpoint_dir}".strip("/")
        files = self._request_files()
        dir_fd, leaf = files.locate(folder)
        with suppress(FileExistsError):
            os.mkdir(leaf, 0o755, dir_fd=dir_fd)
        return files.pin(f"{folder}/{basename}-{checkpoint_id}{ext}")

    async def checkpoint_model(self, checkpoint_id: str, os_path: str) -> dict[str, Any]:
        # Jupyter stats the path, following a link the kernel may have put there.
        dir_fd, name = self._request_files().entry(os_path)
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        if not stat.S_ISREG(info.st_mode):
            raise web.HTTPError(404, "No such checkpoint.")
        return {"id": checkpoint_id, "last_modified": tz.utcfromtimestamp(info.st_mtime)}

    async def rename_checkpoint(self, checkpoint_id: str, old_path: str, new_path: str) -> None:
        files = self._request_files()
        old_dir, old_name = files.entry(self.checkpoint_path(checkpoint_id, old_path))
        new_dir, new_name = files.entry(self.checkpoint_path(checkpoint_id, new_path))
        with self.perm_to_403(), suppress(FileNotFoundError):
            os.rename(old_name, new_name, src_dir_fd=old_dir, dst_dir_fd=new_dir)


class WorkspaceContentsManager(
    ClearFileErrors, WorkspaceTrust, WorkspaceRoot, AsyncLargeFileManager
):
    """Everything Jupyter's contents API does, inside the request's workspace."""

    max_response_bytes = Int(
        help="The largest file (in bytes) that /api/contents returns in one response; larger "
        f"ones answer 413 and are downloaded through /files/, which streams. 0 for no limit. "
        f"Environment: {MAX_BYTES_ENV}.",
    ).tag(config=True)

    @default("max_response_bytes")
    def _max_response_bytes_default(self) -> int:
        value = env_str(MAX_BYTES_ENV, str(64 * 1024 * 1024))
        try:
            return int(value)
        except ValueError:
            raise TraitError(
                f"WorkspaceContentsManager.max_response_bytes ({MAX_BYTES_ENV}) must be a "
                f"number of bytes, not {value!r}."
            ) from None

    @validate("max_response_bytes")
    def _valid_max_response_bytes(self, proposal: Any) -> int:
        if proposal["value"] < 0:
            raise TraitError(
                f"WorkspaceContentsManager.max_response_bytes ({MAX_BYTES_ENV}) must be 0 "
                "(no limit) or a positive number of bytes."
            )
        return int(proposal["value"])

    @default("checkpoints_class")
    def _checkpoints_class_default(self) -> type:
        return WorkspaceCheckpoints

    @default("files_handler_class")
    def _files_handler_class_default(self) -> type:
        # The stock /files/ handler is a static handler rooted once at start-up.
        return WorkspaceFilesHandler

    @default("files_handler_params")
    def _files_handler_params_default(self) -> dict[str, Any]:
        # The handler reads through the contents manager; its static root is never used.
        return {"path": NO_WORKSPACE}

    async def is_hidden(self, path: str) -> bool:
        # By name (Linux has no hidden flag): Jupyter's check of a pinned folder would only
        # see its descriptor number.
        return any(part.startswith(".") for part in path.strip("/").split("/"))

    def is_writable(self, path: str) -> bool:
        return accessible(*self._request_files().entry(self._get_os_path(path)), os.W_OK)

    def open_for_download(self, path: str) -> int:
        """A descriptor of the regular file at `path`, for /files/ to stream."""
        with clear_file_errors():
            dir_fd, name = self._request_files().entry(self._get_os_path(path))
            if not name:
                raise web.HTTPError(404, "No such file.")
            with _refusing_special_files():
                return open_leaf(dir_fd, name, os.O_RDONLY)

    async def _dir_model(self, path: str, content: bool = True) -> dict[str, Any]:
        # Only a folder pinned by its own descriptor is listed: a name that was a file
        # when pinned may be a link to a folder by now.
        dir_fd, name = self._request_files().entry(self._get_os_path(path))
        if name:
            raise web.HTTPError(404, "No such directory.")
        model = self._base_model(path)
        model.update(type="directory", size=None)
        if content:
            model["content"] = await self._listing(path, dir_fd)
            model["format"] = "json"
        return model

    async def _listing(self, path: str, dir_fd: int) -> list[dict[str, Any]]:
        """The folder's entries from one scan of its descriptor. A link is resolved as any
        other path (inside the workspace, or left out of the listing, as Jupyter leaves out
        what it may not read)."""
        may_write = self._person_may_write()
        contents = []
        for entry in await run_sync(scan, dir_fd):
            hidden = entry.name.startswith(".") or not entry.searchable
            if not self.should_list(entry.name) or (hidden and not self.allow_hidden):
                continue
            entry_path = f"{path}/{entry.name}".strip("/")
            if not entry.is_link:
                contents.append(entry_model(path, dir_fd, entry, may_write))
                self.emit(data={"action": "get", "path": entry_path})
                continue
            try:
                contents.append(await self.get(path=entry_path, content=False))
            except (OSError, web.HTTPError) as error:
                # A link out of the workspace is an EACCES; a loop, or a link to nothing
                # or to a folder Jupyter would hide, is left out likewise.
                if getattr(error, "errno", None) not in (errno.ELOOP, errno.EACCES, None):
                    self.log.warning("Cannot list a link in %r: %s", path, error)
        return contents

    async def _save_directory(self, os_path: str, model: Any, path: str = "") -> None:
        dir_fd, name = self._request_files().entry(os_path)
        if not name:
            return  # pinned as a folder: it exists
        with self.perm_to_403():
            try:
                os.mkdir(name, 0o755, dir_fd=dir_fd)
            except FileExistsError:
                raise web.HTTPError(400, f"Not a directory: {path}") from None

    async def _save_large_file(self, os_path: str, content: str, format: str) -> None:
        if format not in {"text", "base64"}:
            raise web.HTTPError(400, "Must specify format of file contents as 'text' or 'base64'")
        try:
            data = content.encode() if format == "text" else base64.b64decode(content)
        except Exception as error:
            raise web.HTTPError(400, "The chunk is not in the format it names.") from error
        dir_fd, name = self._request_files().entry(os_path)
        with self.perm_to_403(), _refusing_special_files():
            fd = open_leaf(dir_fd, name, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            await run_sync(os.write, fd, data)
        finally:
            os.close(fd)

    async def delete_file(self, path: str) -> None:
        """Deleted with `*at` calls on the pinned folder. Never to a trash folder: the
        desktop trash is one folder for every workspace on the server."""
        self._get_os_path(path)  # hidden-folder and workspace checks
        files = self._request_files()
        dir_fd, name = files.locate(path)
        if not name:
            raise web.HTTPError(400, "The workspace itself cannot be deleted.")
        try:
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            raise web.HTTPError(404, f"File or directory does not exist: {path}") from None
        with self.perm_to_403():
            if stat.S_ISDIR(info.st_mode):
                # Jupyter refuses a non-empty folder only when it would really delete it;
                # with the trash on (its default) it moves the whole folder.
                if not self.delete_to_trash and not self.always_delete_dir:
                    child = os.open(name, DIRECTORY, dir_fd=dir_fd)
                    try:
                        names = set(os.listdir(child)) - {self.checkpoints.checkpoint_dir}
                    finally:
                        os.close(child)
                    if names:
                        raise web.HTTPError(400, f"Directory {path} not empty")
                await run_sync(lambda: shutil.rmtree(name, dir_fd=dir_fd))
            else:
                os.unlink(name, dir_fd=dir_fd)
        files.unpin(path)

    async def rename_file(self, old_path: str, new_path: str) -> None:
        old_path, new_path = old_path.strip("/"), new_path.strip("/")
        if old_path == new_path:
            return
        self._get_os_path(old_path)
        self._get_os_path(new_path)
        files = self._request_files()
        old_dir, old_name = files.locate(old_path)
        new_dir, new_name = files.locate(new_path)
        if not old_name or not new_name:
            raise web.HTTPError(400, "The workspace itself cannot be renamed.")
        try:
            old = os.stat(old_name, dir_fd=old_dir, follow_symlinks=False)
        except FileNotFoundError:
            raise web.HTTPError(404, f"File or directory does not exist: {old_path}") from None
        try:
            new = os.stat(new_name, dir_fd=new_dir, follow_symlinks=False)
        except FileNotFoundError:
            new = None
        if new is not None and (new.st_dev, new.st_ino) != (old.st_dev, old.st_ino):
            raise web.HTTPError(409, f"File already exists: {new_path}")
        with self.perm_to_403():
            try:
                os.rename(old_name, new_name, src_dir_fd=old_dir, dst_dir_fd=new_dir)
            except OSError as error:
                if isinstance(error, PermissionError):
                    raise
                raise web.HTTPError(400, f"Cannot rename {old_path} to {new_path}") from None
        files.unpin(old_path)
        files.unpin(new_path)

    async def _get_dir_size(self, path: str = ".") -> str:
        """Summed from the pinned folder (Jupyter runs `du` on the path)."""
        dir_fd, name = self._request_files().entry(path)
        if name:
            return "0"
        try:
            return str(sum(i.st_size for _, i in await run_sync(tree, dir_fd)))
        except TreeTooLarge as error:
            raise web.HTTPError(400, f"This folder has {error.strerror}.") from None

    async def _copy_dir(
        self, from_path: str, to_path_original: str, to_name: str, to_path: str
    ) -> dict[str, Any]:
        files = self._request_files()
        source, name = files.entry(self._get_os_path(from_path.strip("/")))
        target, rest = files.entry(self._get_os_path(to_path_original.strip("/")))
        if name or rest:
            raise web.HTTPError(400, "Only folders can be copied into folders.")
        try:
            with self.perm_to_403():
                await run_sync(copy_tree, source, target, to_name)
        except NotRegular:
            raise web.HTTPError(400, "A folder that contains links cannot be copied.") from None
        except TreeTooLarge as error:
            raise web.HTTPError(
                400, f"This folder has {error.strerror}: too large to copy."
            ) from None
        except OSError as error:
            raise web.HTTPError(400, f"Can't copy '{from_path}' into '{to_path}'") from error
        return await self.get(to_path, content=False)

    def _base_model(self, path: str) -> dict[str, Any]:
        """Read off the pinned descriptor (Jupyter stats the path, and walks it for hidden
        folders through /proc). `writable` is per person: JupyterLab then marks documents
        read-only and never tries to save them, instead of failing on every autosave."""
        path = path.strip("/")
        dir_fd, name = self._request_files().entry(self._get_os_path(path))
        info = os.stat(name or ".", dir_fd=dir_fd, follow_symlinks=False)
        if path and not self.allow_hidden:
            # Jupyter also hides the folders it cannot list.
            unsearchable = stat.S_ISDIR(info.st_mode) and not accessible(
                dir_fd, name, os.R_OK | os.X_OK
            )
            if unsearchable or path.rsplit("/", 1)[-1].startswith("."):
                raise web.HTTPError(404, f"file or directory does not exist: {path!r}")
        writable = accessible(dir_fd, name, os.W_OK) and self._person_may_write()
        return base_model(path, info, writable)

    @staticmethod
    def _person_may_write() -> bool:
        handler = CallContext.get(CallContext.JUPYTER_HANDLER)
        authorizer = getattr(handler, "authorizer", None)
        if not isinstance(authorizer, ClerkAuthorizer):
            return True  # the file system's answer stands; the authorizer still decides
        return "write" in workspace_actions(current_workspace(), authorizer.role_actions)

    def info_string(self) -> str:
        return f"Serving workspaces from {_server_root(self)}/users/… and …/orgs/…"
