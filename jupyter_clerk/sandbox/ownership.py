"""Workspace files that both the server (root) and its sandboxes (an unprivileged uid) can write.

The server runs as root and can use whatever a kernel writes. The other way round needs a
grant: a POSIX ACL entry for the sandbox's uid, as a default ACL on every folder so that what
the server creates later (a saved notebook, an upload) inherits it. Granted once per workspace:
the first time, the files already there are walked without following links.

The grant is not what separates tenants (every sandbox runs as the same uid): the mount
namespace is; a sandbox only ever sees its own workspace.
"""

from __future__ import annotations

import os
import stat
import struct

ACCESS = "system.posix_acl_access"
DEFAULT = "system.posix_acl_default"
_VERSION = 2
_USER_OBJ, _USER, _GROUP_OBJ, _MASK, _OTHER = 0x01, 0x02, 0x04, 0x10, 0x20
_UNDEFINED = 0xFFFFFFFF


def _acl(mode: int, uid: int, perm: int) -> bytes:
    """An ACL: the owner, group and others as in `mode`, plus `uid` with `perm`."""
    entries = [
        (_USER_OBJ, (mode >> 6) & 7, _UNDEFINED),
        (_USER, perm, uid),
        (_GROUP_OBJ, (mode >> 3) & 7, _UNDEFINED),
        (_MASK, perm | ((mode >> 3) & 7), _UNDEFINED),
        (_OTHER, mode & 7, _UNDEFINED),
    ]
    return struct.pack("<I", _VERSION) + b"".join(struct.pack("<HHI", *e) for e in entries)


def _grant(fd: int, uid: int) -> None:
    mode = os.fstat(fd).st_mode
    if stat.S_ISDIR(mode):
        os.setxattr(fd, ACCESS, _acl(mode, uid, 7))
        os.setxattr(fd, DEFAULT, _acl(0o755, uid, 7))
    elif stat.S_ISREG(mode):
        os.setxattr(fd, ACCESS, _acl(mode, uid, 6 | ((mode >> 6) & 1)))


def granted(fd: int, uid: int) -> bool:
    try:
        return os.getxattr(fd, DEFAULT) == _acl(0o755, uid, 7)
    except OSError:
        return False


def share_workspace(workspace: str, uid: int) -> None:
    """Give `uid` read-write access to the workspace's folders and files, now and later."""
    root = os.open(workspace, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        if granted(root, uid):
            return
        for _, dirs, files, dir_fd in os.fwalk(dir_fd=root, follow_symlinks=False):
            for name in [*dirs, *files]:
                st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
                    continue  # links, FIFOs, sockets and devices are left alone
                flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
                try:
                    fd = os.open(name, flags, dir_fd=dir_fd)
                except OSError:
                    continue  # gone, or swapped for something else, meanwhile
                try:
                    _grant(fd, uid)
                finally:
                    os.close(fd)
        _grant(root, uid)  # last: it marks the walk as done
    finally:
        os.close(root)
