"""A hostile tenant's tools: a kernel-side swapper, and the switch that turns protection off.

Every attack here runs twice: once with the check-then-use resolution this project used
before (`CheckThenUse`, which is what most file servers do), to show the attack works and
the test can see it, and once as shipped, where it must find nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from jupyter_clerk.workspaces import contents, safe_fs
from jupyter_clerk.workspaces.pinned import OutsideWorkspace, RequestFiles
from tests.end_to_end.conftest import (  # noqa: F401  (the same signed-in tabs)
    clerk_allowed_origins,
    clerk_config,
    jupyter_origin,
    root,
    tab,
)

# What a kernel runs: swap two names atomically, as fast as it can, for a bounded time.
SWAPPER = r"""
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
a, b, seconds = sys.argv[1].encode(), sys.argv[2].encode(), float(sys.argv[3])
AT_FDCWD, RENAME_EXCHANGE = -100, 2
end = time.monotonic() + seconds
print("ready", flush=True)
while time.monotonic() < end:
    for _ in range(1000):
        if libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) != 0:
            sys.exit("renameat2: errno %d" % ctypes.get_errno())
"""


@contextmanager
def swapping(a: str, b: str, seconds: float) -> Iterator[None]:
    """`a` and `b` exchanged in a loop by another process until the block ends."""
    process = subprocess.Popen(
        [sys.executable, "-c", SWAPPER, a, b, str(seconds)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
        yield
    finally:
        process.kill()
        process.wait()
        assert process.returncode in (0, -9), "the swapper failed"
        if os.path.islink(a):  # leave the tree as it was found
            os.rename(a, a + ".swap")
            os.rename(b, a)
            os.rename(a + ".swap", b)


class CheckThenUse(RequestFiles):
    """The protection switched off: a path is checked with `realpath`, then used as a path."""

    def __init__(self, root_fd: int, root_path: str) -> None:
        super().__init__(root_fd, root_path)
        self.root_path = self.jupyter_root = root_path

    def _checked(self, rel: str) -> str:
        os_path = os.path.join(self.root_path, rel.strip("/")).rstrip("/")
        real, real_root = os.path.realpath(os_path), os.path.realpath(self.root_path)
        if real != real_root and not real.startswith(real_root + "/"):
            raise OutsideWorkspace()
        return os_path

    def pin(self, rel: str) -> str:
        return self._checked(rel)

    def locate(self, rel: str) -> tuple[int, str]:
        return self.entry(self._checked(rel))

    def entry(self, os_path: str) -> tuple[int, str]:
        if os_path == self.root_path:
            return self._keep(os.open(os_path, os.O_RDONLY | os.O_DIRECTORY)), ""
        folder, name = os.path.split(os_path)
        return self._keep(os.open(folder, os.O_RDONLY | os.O_DIRECTORY)), name


def blocking_open_leaf(dir_fd: int, name: str, flags: int, mode: int = 0o644) -> int:
    """The opener without its protection: follows links, waits on FIFOs, opens anything."""
    return os.open(name, flags & ~os.O_NOFOLLOW, mode, dir_fd=dir_fd)


def open_by_path(server_root: str, relative_dir: str) -> int:
    """The workspace root without its protection: made if missing, opened following links."""
    path = os.path.join(server_root, relative_dir)
    os.makedirs(path, mode=0o700, exist_ok=True)
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY)


def following_copy(src_dir: int, src: str, dst_dir: int, dst: str) -> None:
    """Copying without the protection: both ends opened following links."""
    source = os.open(src, os.O_RDONLY, dir_fd=src_dir)
    target = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644, dir_fd=dst_dir)
    try:
        while data := os.read(source, 1 << 20):
            os.write(target, data)
    finally:
        os.close(source)
        os.close(target)


@pytest.fixture(params=["protected", "unprotected"])
def protection(request, monkeypatch) -> bool:
    """Whether the protection is on; off means the check-then-use resolution above."""
    if request.param == "unprotected":
        monkeypatch.setattr(contents.WorkspaceRoot, "request_files_class", CheckThenUse)
        monkeypatch.setattr(contents, "open_leaf", blocking_open_leaf)
        monkeypatch.setattr(contents, "copy_leaf", following_copy)
        monkeypatch.setattr(contents, "open_workspace_root", open_by_path)
        monkeypatch.setattr(
            contents, "workspace_root", lambda server, rel: os.path.join(server, rel)
        )
    return request.param == "protected"


RESOLVERS = [pytest.param(False, id="walk")]
if safe_fs.HAVE_OPENAT2:
    RESOLVERS.insert(0, pytest.param(True, id="openat2"))


@pytest.fixture(params=RESOLVERS)
def resolver(request, monkeypatch) -> bool:
    """Both ways of resolving: openat2, and the O_NOFOLLOW walk used where it is missing."""
    monkeypatch.setattr(safe_fs, "HAVE_OPENAT2", request.param)
    return request.param
