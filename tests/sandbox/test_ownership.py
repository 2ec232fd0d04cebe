"""Granting the sandbox's uid its workspace, as root, without being led outside it."""

from __future__ import annotations

import os

from jupyter_clerk.sandbox.ownership import ACCESS, DEFAULT, granted, share_workspace

UID = 61000


def _acl(path) -> bytes | None:
    try:
        return os.getxattr(path, ACCESS, follow_symlinks=False)
    except OSError:
        return None


def test_existing_files_and_later_ones_are_granted_but_links_are_not_followed(tmp_path):
    workspace, outside = tmp_path / "orgs" / "org_A", tmp_path / "outside"
    (workspace / "deep").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text("not the workspace's")
    (workspace / "deep" / "data.csv").write_text("a\n")
    (workspace / "to-outside").symlink_to(outside)
    (workspace / "deep" / "to-secret").symlink_to(outside / "secret.txt")
    os.mkfifo(workspace / "pipe")  # not opened: a FIFO would block the walk
    share_workspace(str(workspace), UID)
    assert _acl(workspace / "deep" / "data.csv") is not None
    assert _acl(outside) is None and _acl(outside / "secret.txt") is None
    fd = os.open(workspace, os.O_RDONLY)
    try:
        assert granted(fd, UID) and not granted(fd, UID + 1)
    finally:
        os.close(fd)
    (workspace / "deep" / "later.ipynb").write_text("{}")  # as the server saves a notebook
    assert _acl(workspace / "deep" / "later.ipynb") is not None  # inherited
    assert os.getxattr(workspace / "deep", DEFAULT)
