"""Contents models read off a pinned folder's descriptor, and a folder listed in one scan.

Jupyter builds a folder's listing by asking for each entry's model as if it were requested on
its own: a path lookup (here through `/proc/self/fd`), four or five stats, a hidden-file walk
and a hop to a worker thread, per entry. Here one `scandir` of the folder's descriptor, in one
worker-thread call, reads every entry's `lstat` and access bits without following a link, and
the models are built from those results, field for field as Jupyter builds them.
"""

from __future__ import annotations

import mimetypes
import os
import stat
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jupyter_server import _tz as tz
from jupyter_server.services.contents.filemanager import _get_created_timestamp

from .pinned import PINNED_PREFIX

_EPOCH = datetime(1970, 1, 1, 0, 0, tzinfo=tz.UTC)


@dataclass(frozen=True)
class Entry:
    """One entry of a folder, as `lstat` saw it."""

    name: str
    info: os.stat_result
    writable: bool  # by the server's own access rights; the person's role is the caller's
    searchable: bool  # False for a folder Jupyter cannot list (it hides those)

    @property
    def is_link(self) -> bool:
        return stat.S_ISLNK(self.info.st_mode)


def accessible(dir_fd: int, name: str, mode: int) -> bool:
    """`os.access` of an entry of a pinned folder ("" for the folder itself), links not followed."""
    try:
        return os.access(name or ".", mode, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return False


def scan(dir_fd: int) -> list[Entry]:
    """The links, files and folders of `dir_fd`, in the order the folder holds them (FIFOs,
    sockets and devices are left out, as Jupyter leaves them out)."""
    entries = []
    with os.scandir(dir_fd) as found:
        for item in found:
            try:
                info = item.stat(follow_symlinks=False)
            except OSError:  # removed since it was read
                continue
            mode = info.st_mode
            if stat.S_ISLNK(mode):
                entries.append(Entry(item.name, info, False, True))  # resolved by the caller
            elif stat.S_ISREG(mode) or stat.S_ISDIR(mode):
                searchable = not stat.S_ISDIR(mode) or accessible(
                    dir_fd, item.name, os.R_OK | os.X_OK
                )
                entries.append(
                    Entry(item.name, info, accessible(dir_fd, item.name, os.W_OK), searchable)
                )
    return entries


def _timestamp(seconds: float) -> datetime:
    try:
        return tz.utcfromtimestamp(seconds)
    except (ValueError, OverflowError, OSError):  # as Jupyter: the epoch, not a crash
        return _EPOCH


def base_model(path: str, info: os.stat_result, writable: bool) -> dict[str, Any]:
    """Jupyter's common model of `path` (an API path), from its `lstat`."""
    return {
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "last_modified": _timestamp(info.st_mtime),
        "created": _timestamp(_get_created_timestamp(info)),
        "content": None,
        "format": None,
        "mimetype": None,
        "size": info.st_size,
        "writable": writable,
        "hash": None,
        "hash_algorithm": None,
    }


def entry_model(folder: str, dir_fd: int, entry: Entry, may_write: bool) -> dict[str, Any]:
    """The model Jupyter lists for a file or folder entry (`get(..., content=False)`)."""
    path = f"{folder}/{entry.name}".strip("/")
    model = base_model(path, entry.info, entry.writable and may_write)
    if stat.S_ISDIR(entry.info.st_mode):
        model.update(type="directory", size=None)
    elif path.endswith(".ipynb"):
        model["type"] = "notebook"
    else:
        model["type"] = "file"
        model["mimetype"] = mimetypes.guess_type(f"{PINNED_PREFIX}/{dir_fd}/{entry.name}")[0]
    return model
