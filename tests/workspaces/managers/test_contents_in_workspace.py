"""Jupyter's contents API keeps its behaviour inside a workspace (cases ported from
jupyter_server's own contents tests, rewritten against the workspace managers)."""

from __future__ import annotations

import base64

from tests.devinstance.helpers import ENGINES
from tests.workspaces.managers.conftest import text


async def test_listing_shows_the_workspace_as_root(ada, home):
    (home / "sub").mkdir()
    (home / "a.txt").write_text("a")
    (home / ".hidden").write_text("h")
    code, model = await ada.get("api/contents")
    assert (code, model["path"], model["type"]) == (200, "", "directory")
    assert {i["name"] for i in model["content"]} == {"sub", "a.txt"}


async def test_untitled_notebook_file_and_directory_are_created(ada, home):
    for kind, name in (
        ("notebook", "Untitled.ipynb"),
        ("file", "untitled"),
        ("directory", "Untitled Folder"),
    ):
        code, model = await ada.post("api/contents", {"type": kind})
        assert (code, model["name"]) == (201, name)
        assert (home / name).exists()


async def test_text_and_base64_files_round_trip(ada, home):
    assert (await ada.put("api/contents/t.txt", text("héllo")))[0] == 201
    assert (await ada.get("api/contents/t.txt"))[1]["content"] == "héllo"
    payload = base64.b64encode(b"\x00\x01binary").decode()
    body = {"type": "file", "format": "base64", "content": payload}
    assert (await ada.put("api/contents/b.bin", body))[0] == 201
    assert (home / "b.bin").read_bytes() == b"\x00\x01binary"


async def test_notebook_save_and_get_keeps_cells(ada, home):
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "source": "1+1",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    assert (await ada.put("api/contents/n.ipynb", {"type": "notebook", "content": notebook}))[
        0
    ] == 201
    model = (await ada.get("api/contents/n.ipynb"))[1]
    assert model["content"]["cells"][0]["source"] == "1+1"


async def test_rename_copy_and_delete(ada, home):
    await ada.put("api/contents/old.txt", text("x"))
    assert (await ada.patch("api/contents/old.txt", {"path": "new.txt"}))[0] == 200
    assert (home / "new.txt").exists() and not (home / "old.txt").exists()
    code, copied = await ada.post("api/contents", {"copy_from": "new.txt"})
    assert code == 201 and (home / copied["name"]).exists()
    assert (await ada.delete("api/contents/new.txt"))[0] == 204
    assert not (home / "new.txt").exists()


async def test_rename_out_of_the_workspace_is_refused(ada, home, root):
    await ada.put("api/contents/stay.txt", text("x"))
    for target in ("../escaped.txt", f"../../orgs/{ENGINES}X/escaped.txt", "/tmp/escaped.txt"):
        code, _ = await ada.patch("api/contents/stay.txt", {"path": target})
        assert code in (400, 403, 404), target
    assert (home / "stay.txt").exists()
    assert not list(root.rglob("escaped.txt"))


async def test_copy_from_outside_the_workspace_is_refused(ada, root):
    (root / "orgs" / "org_2aOther").mkdir(parents=True)
    (root / "orgs" / "org_2aOther" / "theirs.txt").write_text("secret")
    code, body = await ada.post("api/contents", {"copy_from": "../org_2aOther/theirs.txt"})
    assert code in (400, 403, 404)
    assert "secret" not in str(body)


async def test_chunked_upload_assembles_the_file(ada, home):
    chunks = [b"first-", b"second-", b"last"]
    for number, chunk in zip((1, 2, -1), chunks, strict=True):
        body = {
            "type": "file",
            "format": "base64",
            "chunk": number,
            "content": base64.b64encode(chunk).decode(),
        }
        assert (await ada.put("api/contents/big.bin", body))[0] in (200, 201)
    assert (home / "big.bin").read_bytes() == b"".join(chunks)


async def test_checkpoints_create_list_restore_delete(ada, home):
    await ada.put("api/contents/c.txt", text("v1"))
    code, checkpoint = await ada.post("api/contents/c.txt/checkpoints")
    assert code == 201
    assert [c["id"] for c in (await ada.get("api/contents/c.txt/checkpoints"))[1]] == [
        checkpoint["id"]
    ]
    await ada.put("api/contents/c.txt", text("v2"))
    assert (await ada.post(f"api/contents/c.txt/checkpoints/{checkpoint['id']}"))[0] == 204
    assert (home / "c.txt").read_text() == "v1"
    assert (await ada.delete(f"api/contents/c.txt/checkpoints/{checkpoint['id']}"))[0] == 204
    assert (await ada.get("api/contents/c.txt/checkpoints"))[1] == []


async def test_missing_file_is_404(ada, home):
    assert (await ada.get("api/contents/nope.txt"))[0] == 404


async def test_nbconvert_and_view_read_the_workspace(ada, home):
    notebook = {
        "cells": [{"cell_type": "markdown", "source": "# Engines report", "metadata": {}}],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    await ada.put("api/contents/r.ipynb", {"type": "notebook", "content": notebook})
    code, html = await ada.get("nbconvert/html/r.ipynb?download=false")
    assert code == 200 and b"Engines report" in html
    await ada.put("api/contents/page.html", text("<p>engines page</p>"))
    assert (await ada.get("view/page.html"))[0] == 200
    assert (await ada.get("files/page.html"))[1] == b"<p>engines page</p>"
