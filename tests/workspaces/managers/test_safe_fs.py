"""Resolving beneath a root descriptor, with openat2 and with the O_NOFOLLOW walk alike."""

from __future__ import annotations

import errno
import os
import time

import pytest

from jupyter_clerk.workspaces import safe_fs
from jupyter_clerk.workspaces.safe_fs import Escape, NotRegular, Walker, open_leaf

MODES = [pytest.param(False, id="walk")]
if safe_fs.HAVE_OPENAT2:
    MODES.insert(0, pytest.param(True, id="openat2"))


@pytest.fixture
def tree(tmp_path):
    """Two workspaces side by side; `a` holds links of every kind."""
    a, b = tmp_path / "a", tmp_path / "b"
    (a / "sub" / "deep").mkdir(parents=True)
    b.mkdir()
    (a / "sub" / "deep" / "f.txt").write_text("mine")
    (b / "secret.txt").write_text("theirs")
    os.symlink("sub/deep", a / "relative-in")
    os.symlink(str(a / "sub"), a / "absolute-in")
    os.symlink("../b", a / "relative-out")
    os.symlink(str(b), a / "absolute-out")
    os.symlink("/proc/self/root", a / "magic")
    os.symlink("loop", a / "loop")
    os.symlink("deep/f.txt", a / "sub" / "file-link")
    os.mkfifo(a / "fifo")
    return a, b


@pytest.fixture(params=MODES)
def walker(request, tree):
    fd = os.open(tree[0], safe_fs.DIRECTORY)
    yield Walker(fd, str(tree[0]), use_openat2=request.param)
    os.close(fd)


def read(walker: Walker, rel: str) -> str:
    dir_fd, name = walker.locate(rel)
    try:
        fd = open_leaf(dir_fd, name, os.O_RDONLY)
    finally:
        os.close(dir_fd)
    with os.fdopen(fd) as f:
        return f.read()


@pytest.mark.parametrize(
    "rel", ["sub/deep/f.txt", "relative-in/f.txt", "absolute-in/deep/f.txt", "sub/file-link"]
)
def test_links_that_stay_inside_keep_working(walker, rel):
    assert read(walker, rel) == "mine"


@pytest.mark.parametrize(
    "rel", ["relative-out/secret.txt", "absolute-out/secret.txt", "magic/etc/passwd", "../b"]
)
def test_links_and_dots_that_leave_are_refused(walker, rel):
    with pytest.raises(Escape):
        walker.locate(rel)
    with pytest.raises(Escape):
        walker.open_dir(rel)


def test_a_link_loop_ends_in_eloop(walker):
    with pytest.raises(OSError) as info:
        walker.open_dir("loop/x")
    assert info.value.errno == errno.ELOOP


def test_a_fifo_is_refused_at_once(walker):
    dir_fd, name = walker.locate("fifo")
    started = time.monotonic()
    with pytest.raises(NotRegular):
        open_leaf(dir_fd, name, os.O_RDONLY)
    os.close(dir_fd)
    assert time.monotonic() - started < 5  # would hang forever, waiting for a writer


def test_the_final_link_is_resolved_so_callers_never_follow_one(walker, tree):
    dir_fd, name = walker.locate("sub/file-link")
    assert (name, os.fstat(dir_fd).st_ino) == ("f.txt", os.stat(tree[0] / "sub" / "deep").st_ino)
    os.close(dir_fd)


def test_open_leaf_never_follows_a_link(tree):
    dir_fd = os.open(tree[0], safe_fs.DIRECTORY)
    with pytest.raises(OSError) as info:
        open_leaf(dir_fd, "absolute-out", os.O_RDONLY)
    os.close(dir_fd)
    assert info.value.errno == errno.ELOOP


def test_copy_tree_refuses_a_folder_with_links(tree):
    source = os.open(tree[0], safe_fs.DIRECTORY)
    target = os.open(tree[1], safe_fs.DIRECTORY)
    with pytest.raises(NotRegular):
        safe_fs.copy_tree(source, target, "copy")
    assert not (tree[1] / "copy").exists()
    os.close(source)
    os.close(target)


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_walk_that_fails_midway_leaves_no_descriptor_open(tmp_path, monkeypatch):
    """A kernel removing folders during a copy (or too many folders) must not leak the
    descriptors of the folders still waiting: each leak is for the whole server's life."""
    for n in range(20):
        (tmp_path / f"d{n}" / "inner").mkdir(parents=True)
    root = os.open(tmp_path, safe_fs.DIRECTORY)
    opened = 0
    real_open = os.open

    def vanishing_open(path, flags, *args, **kwargs):
        nonlocal opened
        opened += 1
        if opened == 15:
            raise FileNotFoundError(errno.ENOENT, "removed meanwhile", path)
        return real_open(path, flags, *args, **kwargs)

    try:
        before = _open_descriptors()
        monkeypatch.setattr(safe_fs.os, "open", vanishing_open)
        with pytest.raises(FileNotFoundError):
            safe_fs.tree(root)
        monkeypatch.undo()
        assert _open_descriptors() == before
    finally:
        os.close(root)


def test_a_folder_deeper_than_the_bound_is_refused_not_walked(tmp_path):
    deep = tmp_path
    for _ in range(safe_fs.MAX_TREE_DEPTH + 1):
        deep = deep / "d"
    deep.mkdir(parents=True)
    root = os.open(tmp_path, safe_fs.DIRECTORY)
    try:
        before = _open_descriptors()
        with pytest.raises(safe_fs.TreeTooLarge):
            safe_fs.tree(root)
        with pytest.raises(safe_fs.TreeTooLarge):
            safe_fs._copy_into(root, root, depth=safe_fs.MAX_TREE_DEPTH)
        assert _open_descriptors() == before
    finally:
        os.close(root)
