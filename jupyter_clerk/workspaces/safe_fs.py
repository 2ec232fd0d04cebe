"""Opening paths beneath a directory descriptor, never following a link out of it.

A kernel can swap any folder of its workspace for a symlink between a check and an
`open()`, so nothing here checks a path and then uses it: every component is opened from
the descriptor of the one before, links are read and resolved by hand within the root (a
bounded number of hops), and callers act on the descriptors they get back.

`openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)` does the whole walk in the kernel where
Linux has it (5.6+); Python does not expose it, so it is called through `ctypes`. The
component-by-component `O_NOFOLLOW` walk is the fallback, and also resolves the absolute
links (to a path inside the workspace) that `RESOLVE_BENEATH` refuses outright.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
from dataclasses import dataclass

RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_BENEATH = 0x08
SYS_OPENAT2 = 437  # the same number on every architecture (Linux 5.6+)
MAX_HOPS = 40  # as the kernel's own limit on links followed in one lookup

DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class Escape(PermissionError):
    """A path, or a link on it, that leaves the root."""

    def __init__(self) -> None:
        super().__init__(errno.EXDEV, "path leaves the workspace")


class NotRegular(OSError):
    """A FIFO, socket or device: never opened for reading or writing."""

    def __init__(self) -> None:
        super().__init__(errno.EINVAL, "not a regular file or folder")


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def openat2(dir_fd: int, path: str, flags: int, resolve: int, mode: int = 0) -> int:
    how = _OpenHow(flags, mode, resolve)
    fd = _libc.syscall(
        SYS_OPENAT2, dir_fd, os.fsencode(path), ctypes.byref(how), ctypes.sizeof(how)
    )
    if fd < 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), path)
    return int(fd)


def _probe_openat2() -> bool:
    try:
        os.close(openat2(os.open("/", DIRECTORY), ".", DIRECTORY, RESOLVE_BENEATH))
    except OSError as error:
        if error.errno in (errno.ENOSYS, errno.EPERM):  # old kernel, or a seccomp filter
            return False
        raise
    return True


HAVE_OPENAT2 = _probe_openat2()


@dataclass
class Walker:
    """Resolves paths beneath `root_fd`, whose host path is `root_path` (for absolute links).

    `use_openat2` follows `HAVE_OPENAT2` unless given: tests turn that off to run the walk
    on a kernel that has openat2."""

    root_fd: int
    root_path: str
    use_openat2: bool | None = None

    def __post_init__(self) -> None:
        if self.use_openat2 is None:
            self.use_openat2 = HAVE_OPENAT2

    def open_dir(self, rel: str) -> int:
        """A descriptor of the folder `rel` (relative to the root; links inside followed)."""
        if self.use_openat2:
            try:
                return openat2(
                    self.root_fd,
                    rel or ".",
                    DIRECTORY & ~os.O_NOFOLLOW,
                    RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
                )
            except OSError as error:
                # EXDEV: a link leaves (or is absolute: the walk tells which); ELOOP: a
                # magic link or a loop. Anything else is the answer.
                if error.errno not in (errno.EXDEV, errno.ELOOP):
                    raise
        return self._walk(_parts(rel), leaf=False)[0]

    def locate(self, rel: str) -> tuple[int, str]:
        """The folder holding `rel`'s final entry (a descriptor the caller closes) and that
        entry's name, which is not a link when this returns (it may not exist yet)."""
        parts = _parts(rel)
        if not parts:
            return os.dup(self.root_fd), ""
        if self.use_openat2:
            head = "/".join(parts[:-1])
            dir_fd = self.open_dir(head)
            try:
                mode = os.stat(parts[-1], dir_fd=dir_fd, follow_symlinks=False).st_mode
            except FileNotFoundError:
                return dir_fd, parts[-1]
            except OSError:
                os.close(dir_fd)
                raise
            if not stat.S_ISLNK(mode):
                return dir_fd, parts[-1]
            os.close(dir_fd)
        return self._walk(parts, leaf=True)

    def _walk(self, parts: list[str], *, leaf: bool) -> tuple[int, str]:
        stack = [os.dup(self.root_fd)]
        hops = 0
        try:
            while parts:
                name = parts.pop(0)
                if name == "..":
                    if len(stack) == 1:
                        raise Escape()
                    os.close(stack.pop())
                    continue
                if leaf and not parts:
                    try:
                        info = os.stat(name, dir_fd=stack[-1], follow_symlinks=False)
                    except FileNotFoundError:
                        return stack.pop(), name
                    if not stat.S_ISLNK(info.st_mode):
                        return stack.pop(), name
                    try:
                        target = os.readlink(name, dir_fd=stack[-1])
                    except OSError:  # swapped since the stat: look again (it costs a hop)
                        target = name
                else:
                    try:
                        stack.append(os.open(name, DIRECTORY, dir_fd=stack[-1]))
                        continue
                    except OSError as error:
                        # A link answers ELOOP or ENOTDIR (O_DIRECTORY | O_NOFOLLOW).
                        if error.errno not in (errno.ELOOP, errno.ENOTDIR):
                            raise
                        try:
                            target = os.readlink(name, dir_fd=stack[-1])
                        except OSError:
                            raise error from None
                hops += 1
                if hops > MAX_HOPS:
                    raise OSError(errno.ELOOP, "too many links", name)
                if os.path.isabs(target):
                    if target != self.root_path and not target.startswith(self.root_path + "/"):
                        raise Escape()
                    while len(stack) > 1:
                        os.close(stack.pop())
                    target = target[len(self.root_path) :]
                parts[:0] = _parts(target, allow_up=True)
            return stack.pop(), ""
        finally:
            for fd in stack:
                os.close(fd)


def _parts(rel: str, *, allow_up: bool = False) -> list[str]:
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if not allow_up and ".." in parts:
        raise Escape()
    if any("\0" in p for p in parts):
        raise Escape()
    return parts


def open_leaf(dir_fd: int, name: str, flags: int, mode: int = 0o644) -> int:
    """Open the entry `name` of `dir_fd`, refusing links and anything but regular files.

    `O_NONBLOCK` makes opening a FIFO return at once instead of waiting for a writer; it is
    cleared again once the descriptor is known to be a regular file."""
    fd = os.open(name, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, mode, dir_fd=dir_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegular()
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_leaf(dir_fd: int, name: str, *, atomic: bool) -> tuple[int, str | None]:
    """A descriptor to write `name` of `dir_fd` from scratch, and the temporary name to
    rename over it (`commit_leaf`) when `atomic`. Renaming replaces a link, never follows it."""
    if not atomic:
        return open_leaf(dir_fd, name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), None
    try:
        mode = stat.S_IMODE(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except FileNotFoundError:
        mode = 0o644
    temporary = f".~{name}.{os.urandom(6).hex()}"[:255]
    fd = open_leaf(dir_fd, temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    return fd, temporary


def commit_leaf(dir_fd: int, name: str, temporary: str | None, ok: bool) -> None:
    if temporary is None:
        return
    if ok:
        os.replace(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    else:
        os.unlink(temporary, dir_fd=dir_fd)


def copy_leaf(src_dir: int, src: str, dst_dir: int, dst: str, chunk: int = 1 << 20) -> None:
    """Copy one regular file between pinned folders, mode included."""
    source = open_leaf(src_dir, src, os.O_RDONLY)
    try:
        target, temporary = write_leaf(dst_dir, dst, atomic=True)
        ok = False
        try:
            os.fchmod(target, stat.S_IMODE(os.fstat(source).st_mode))
            while data := os.read(source, chunk):
                os.write(target, data)
            ok = True
        finally:
            os.close(target)
            commit_leaf(dst_dir, dst, temporary, ok)
    finally:
        os.close(source)


# What one walk of a folder may hold: a tenant's folder of a million empty folders, or one
# nested ten thousand deep, must not take every descriptor (or the stack) of the server.
MAX_TREE_ENTRIES = 100_000
MAX_TREE_DEPTH = 64


class TreeTooLarge(OSError):
    """A folder with more entries or levels than one request may walk."""

    def __init__(self) -> None:
        super().__init__(
            errno.E2BIG,
            f"more than {MAX_TREE_ENTRIES} entries or {MAX_TREE_DEPTH} levels of folders",
        )


def _scan(fd: int, prefix: str, found: list[tuple[str, os.stat_result]]) -> list[str]:
    """Appends the entries of one folder to `found`; returns its subfolders' names."""
    folders = []
    with os.scandir(fd) as entries:
        for entry in entries:
            info = entry.stat(follow_symlinks=False)
            found.append((prefix + entry.name, info))
            if len(found) > MAX_TREE_ENTRIES:
                raise TreeTooLarge()
            if stat.S_ISDIR(info.st_mode):
                folders.append(entry.name)
    return folders


def tree(dir_fd: int) -> list[tuple[str, os.stat_result]]:
    """Every entry under `dir_fd` (relative paths, parents first), links not followed.

    Depth first, holding one descriptor per level (at most MAX_TREE_DEPTH), all closed
    whatever fails: a folder removed mid-walk must not leak the ones still open."""
    found: list[tuple[str, os.stat_result]] = []
    stack: list[tuple[str, int, list[str]]] = []
    try:
        fd = os.dup(dir_fd)
        stack.append(("", fd, []))
        stack[-1][2].extend(_scan(fd, "", found))
        while stack:
            prefix, fd, folders = stack[-1]
            if not folders:
                os.close(stack.pop()[1])
                continue
            if len(stack) >= MAX_TREE_DEPTH:
                raise TreeTooLarge()
            name = folders.pop()
            child = os.open(name, DIRECTORY, dir_fd=fd)
            stack.append((prefix + name + "/", child, []))
            stack[-1][2].extend(_scan(child, prefix + name + "/", found))
    finally:
        for _, fd, _ in stack:
            os.close(fd)
    return found


def copy_tree(src_fd: int, dst_dir: int, name: str) -> None:
    """Copy the folder `src_fd` to a new folder `name` of `dst_dir`. Links and special files
    are refused before anything is written; one swapped in later fails the copy (`O_NOFOLLOW`)."""
    if any(not (stat.S_ISDIR(i.st_mode) or stat.S_ISREG(i.st_mode)) for _, i in tree(src_fd)):
        raise NotRegular()
    os.mkdir(name, 0o700, dir_fd=dst_dir)
    target = os.open(name, DIRECTORY, dir_fd=dst_dir)
    try:
        _copy_into(src_fd, target)
    finally:
        os.close(target)


def _copy_into(src_fd: int, dst_fd: int, depth: int = 0) -> None:
    if depth >= MAX_TREE_DEPTH:  # deepened since `tree` looked: still bounded
        raise TreeTooLarge()
    with os.scandir(src_fd) as entries:
        names = [(e.name, e.is_dir(follow_symlinks=False)) for e in entries]
    for name, is_dir in names:
        if not is_dir:
            copy_leaf(src_fd, name, dst_fd, name)
            continue
        os.mkdir(name, 0o700, dir_fd=dst_fd)
        src_child = os.open(name, DIRECTORY, dir_fd=src_fd)
        dst_child = os.open(name, DIRECTORY, dir_fd=dst_fd)
        try:
            _copy_into(src_child, dst_child, depth + 1)
            os.fchmod(dst_child, stat.S_IMODE(os.fstat(src_child).st_mode) | 0o700)
        finally:
            os.close(src_child)
            os.close(dst_child)
