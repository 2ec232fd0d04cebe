"""The models the workspace manager returns are Jupyter's own, field for field.

Listings are built from one scan of the folder's descriptor and models are read off
descriptors (`listing.py`), not by Jupyter's code: each is compared here with what Jupyter's
stock `AsyncLargeFileManager`, rooted at the same folder, answers for the same path.
"""

from __future__ import annotations

import gc
import json
import os
import weakref
from urllib.parse import quote

import nbformat
import pytest
from jupyter_client.jsonutil import json_default
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from jupyter_server.utils import ensure_async

from jupyter_clerk.workspaces.pinned import RequestFiles, attach
from jupyter_clerk.workspaces.safe_fs import DIRECTORY


def _tree(home) -> None:
    (home / "sub" / "deeper").mkdir(parents=True)
    (home / "sub" / "inner.txt").write_text("inner")
    (home / "a.txt").write_text("héllo")
    (home / "b.bin").write_bytes(bytes(range(256)))
    (home / "noext").write_text("plain")
    (home / "data:x.csv").write_text("1,2")
    (home / "UPPER.JSON").write_text("{}")
    (home / "arch.tar.gz").write_bytes(b"\x1f\x8b")
    (home / "empty.py").write_text("")
    (home / "ünï cødé.md").write_text("# ü")
    (home / "n.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook()))
    (home / ".hidden.txt").write_text("h")
    (home / ".hidden-folder").mkdir()
    (home / "__pycache__").mkdir()
    (home / "x.pyc").write_bytes(b"")
    (home / "read-only.txt").write_text("r")
    os.chmod(home / "read-only.txt", 0o444)
    os.utime(home / "sub", (1_000_000_000, 1_000_000_000))


async def _stock(home, path: str, **query) -> dict:
    manager = AsyncLargeFileManager(root_dir=str(home))
    model = await ensure_async(manager.get(path, **query))
    return json.loads(json.dumps(model, default=json_default))  # as the handler sends it


@pytest.mark.parametrize(
    "path",
    ["", "sub", "sub/deeper", "a.txt", "b.bin", "noext", "n.ipynb", "ünï cødé.md", "empty.py"],
)
async def test_a_model_is_the_one_stock_jupyter_returns(ada, home, path):
    _tree(home)
    code, model = await ada.get(f"api/contents/{quote(path)}")
    assert code == 200
    assert model == await _stock(home, path)


@pytest.mark.parametrize("path", ["a.txt", "b.bin", "n.ipynb"])
async def test_a_model_with_its_hash_is_the_one_stock_jupyter_returns(ada, home, path):
    _tree(home)
    code, model = await ada.get(f"api/contents/{path}?hash=1&content=0")
    assert code == 200 and model["hash"]
    assert model == await _stock(home, path, content=False, require_hash=True)


async def test_a_listing_holds_the_entries_stock_jupyter_lists_in_its_order(ada, home):
    _tree(home)
    listing = (await ada.get("api/contents"))[1]["content"]
    stock = (await _stock(home, ""))["content"]
    assert [m["name"] for m in listing] == [m["name"] for m in stock]
    assert ".hidden.txt" not in [m["name"] for m in listing]
    assert "__pycache__" not in [m["name"] for m in listing]
    assert listing == stock  # field for field: sizes, times, mimetypes, writable


async def test_a_folder_jupyter_cannot_search_is_left_out_as_by_jupyter(ada, home):
    # As root, access() answers yes whatever the mode: the check is asked of the kernel.
    (home / "shut").mkdir(mode=0o000)
    (home / "open").mkdir()
    names = [m["name"] for m in (await ada.get("api/contents"))[1]["content"]]
    stock = [m["name"] for m in (await _stock(home, ""))["content"]]
    assert names == stock


async def test_links_are_listed_as_their_resolution_inside_the_workspace(ada, home):
    (home / "a.txt").write_text("a")
    (home / "folder").mkdir()
    os.symlink("a.txt", home / "to-a.txt")
    os.symlink("folder", home / "to-folder")
    os.symlink("/etc", home / "to-etc")
    os.symlink("nothing-here", home / "dangling")
    os.symlink("loop", home / "loop")
    code, model = await ada.get("api/contents")
    assert code == 200
    kinds = {m["name"]: m["type"] for m in model["content"]}
    assert kinds == {
        "a.txt": "file",
        "folder": "directory",
        "to-a.txt": "file",
        "to-folder": "directory",
    }


def test_the_request_files_do_not_keep_their_handler_in_a_cycle(tmp_path):
    class Handler:
        def on_finish(self) -> None:
            pass

    handler = Handler()
    files = RequestFiles(os.open(tmp_path, DIRECTORY), str(tmp_path))
    attach(handler, files)
    gone = weakref.ref(handler)
    handler.on_finish()
    assert files.closed
    gc.disable()
    try:
        del handler
        assert gone() is None  # freed by its reference count, not left to the collector
    finally:
        gc.enable()


def test_the_handlers_own_on_finish_still_runs(tmp_path):
    calls = []

    class Handler:
        def on_finish(self) -> None:
            calls.append(self)

    handler = Handler()
    attach(handler, RequestFiles(os.open(tmp_path, DIRECTORY), str(tmp_path)))
    handler.on_finish()
    assert calls == [handler]
