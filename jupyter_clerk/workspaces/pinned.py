"""One request's view of its workspace: folders pinned by descriptor, handed to Jupyter as paths.

Jupyter's file managers take path strings everywhere. The strings handed to them here are
`/proc/self/fd/<fd>/.` (a folder) or `/proc/self/fd/<fd>/<name>` (an entry of a folder): the
kernel resolves the descriptor to the folder that was opened, whatever has been renamed or
swapped since, so Jupyter's own code acts on what was opened. The final name is still looked
up by Jupyter: every operation that would follow a link there (open, write, copy, rename,
delete) is overridden in `contents.py` to use `*at` calls with `O_NOFOLLOW`.

The descriptors live as long as the request: they are closed when it finishes.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import weakref
from typing import Any

from tornado import web

from .resolution import WorkspaceRequired
from .safe_fs import DIRECTORY, Escape, Walker

PINNED_PREFIX = "/proc/self/fd"
_PINNED = re.compile(r"/proc/self/fd/(\d+)(?:/\.)?(?:/([^/]+))?")


class OutsideWorkspace(web.HTTPError, PermissionError):
    """A path that leaves the workspace. Also a PermissionError, so that a directory listing
    skips a symlink pointing out instead of failing as a whole."""

    def __init__(self) -> None:
        web.HTTPError.__init__(self, 404, "No such file in this workspace.")
        self.errno = errno.EACCES


_server_roots: dict[str, int] = {}


def open_workspace_root(server_root: str, relative_dir: str) -> int:
    """The workspace folder, opened from its parent without following a link at any step
    below the server root (created owner-only on first use). Done on every request: a
    folder replaced by a link since the last one is refused, never followed."""
    root_fd = _server_roots.get(server_root)
    if root_fd is None:
        # The server root is the administrator's configuration: it may itself be a link.
        root_fd = _server_roots.setdefault(
            server_root, os.open(server_root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        )
    fd = os.dup(root_fd)
    try:
        for name in relative_dir.split("/"):
            try:
                child = os.open(name, DIRECTORY, dir_fd=fd)
            except FileNotFoundError:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, 0o700, dir_fd=fd)
                child = os.open(name, DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
    except OSError as error:
        os.close(fd)
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise WorkspaceRequired() from None
        raise
    return fd


class RequestFiles:
    """The pinned folders of one request; `close()` releases them all."""

    # Jupyter's hidden-file checks are made relative to the root it is given: every pinned
    # path starts here. (Hidden folders above the final name are refused by the manager.)
    jupyter_root = PINNED_PREFIX

    def __init__(self, root_fd: int, root_path: str) -> None:
        self.walker = Walker(root_fd, root_path)
        self._fds = [root_fd]
        self._pins: dict[str, str] = {"": _folder(root_fd)}

    def _keep(self, fd: int) -> int:
        self._fds.append(fd)
        return fd

    def locate(self, rel: str) -> tuple[int, str]:
        """The pinned folder that holds `rel` and the name of its final entry (not a link)."""
        try:
            dir_fd, name = self.walker.locate(rel)
        except Escape:
            raise OutsideWorkspace() from None
        except (FileNotFoundError, NotADirectoryError):
            raise web.HTTPError(404, "No such file or directory.") from None
        except OSError as error:
            if error.errno in (errno.ELOOP, errno.EINVAL):  # a loop, or a link swapped mid-walk
                raise OutsideWorkspace() from None
            raise
        return self._keep(dir_fd), name

    def pin(self, rel: str) -> str:
        """`rel` as a path that names what was opened: a folder by its own descriptor, any
        other entry as a name in its pinned folder."""
        rel = rel.strip("/")
        pinned = self._pins.get(rel)
        if pinned is not None:
            return pinned
        dir_fd, name = self.locate(rel)
        if not name:
            pinned = _folder(dir_fd)
        else:
            try:
                folder = os.open(name, DIRECTORY | os.O_NONBLOCK, dir_fd=dir_fd)
                pinned = _folder(self._keep(folder))
            except FileNotFoundError:
                return f"{PINNED_PREFIX}/{dir_fd}/{name}"  # not kept: it is about to be made
            except OSError as error:
                if error.errno not in (errno.ENOTDIR, errno.ELOOP):
                    raise
                # Not a folder: a file, or a link swapped in since `locate`.
                if stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode):
                    raise OutsideWorkspace() from None
                pinned = f"{PINNED_PREFIX}/{dir_fd}/{name}"
        self._pins[rel] = pinned
        return pinned

    def unpin(self, rel: str) -> None:
        """Forget what `rel` named (after a rename or delete), keeping its descriptors."""
        rel = rel.strip("/")
        for key in [k for k in self._pins if k == rel or k.startswith(rel + "/")]:
            if key:
                del self._pins[key]

    def entry(self, os_path: str) -> tuple[int, str]:
        """The pinned folder and entry name a path handed out by `pin` stands for. Anything
        else (a path Jupyter built itself, a descriptor of another request) is refused."""
        match = _PINNED.fullmatch(os_path)
        if match is None or int(match.group(1)) not in self._fds or match.group(2) in (".", ".."):
            raise OutsideWorkspace()
        return int(match.group(1)), match.group(2) or ""

    @property
    def closed(self) -> bool:
        return self.walker.root_fd < 0

    def close(self) -> None:
        # The numbers may be reused by the next open() anywhere in the server: nothing may
        # resolve from them again.
        self.walker.root_fd = -1
        fds, self._fds = self._fds, []
        self._pins.clear()
        for fd in fds:
            os.close(fd)


def _folder(fd: int) -> str:
    # "/." so that stat() and listdir() reach the folder, not the /proc link to it.
    return f"{PINNED_PREFIX}/{fd}/."


def attach(handler: Any, files: RequestFiles) -> None:
    """Close `files` when the request finishes (or, failing that, when the handler goes).

    The hook holds the handler's own `on_finish` weakly: a strong reference would make a
    cycle through the handler, which then outlives its request (with its task and all it
    holds) until the garbage collector runs, and every worker-thread call of every request
    walks the tasks still alive."""
    with contextlib.suppress(TypeError):  # an object that takes no weak references
        weakref.finalize(handler, files.close)
    finish = getattr(handler, "on_finish", None)
    if finish is None:
        return
    try:
        finish_ref: Any = weakref.WeakMethod(finish)
    except TypeError:  # not a bound method: nothing of the handler to hold
        finish_ref = lambda: finish  # noqa: E731

    def on_finish() -> None:
        files.close()
        bound = finish_ref()
        if bound is not None:
            bound()

    handler.on_finish = on_finish
