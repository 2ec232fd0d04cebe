"""What resolving beneath the workspace's descriptor keeps of Jupyter's behaviour, and its
settings."""

from __future__ import annotations

import os

import pytest
from traitlets import TraitError

from jupyter_clerk.workspaces.contents import MAX_BYTES_ENV, WorkspaceContentsManager
from jupyter_clerk.workspaces.pinned import OutsideWorkspace, RequestFiles
from jupyter_clerk.workspaces.safe_fs import DIRECTORY
from tests.devinstance.helpers import ENGINES, GRACE, PARTNERS
from tests.workspaces.managers.conftest import text


async def test_links_inside_the_workspace_are_followed_relative_or_absolute(ada, home):
    (home / "data").mkdir()
    (home / "data" / "a.txt").write_text("inside")
    os.symlink("data/a.txt", home / "relative.txt")
    os.symlink(home / "data", home / "absolute")
    assert (await ada.get("api/contents/relative.txt"))[1]["content"] == "inside"
    assert (await ada.get("api/contents/absolute/a.txt"))[1]["content"] == "inside"
    assert (await ada.get("files/absolute/a.txt"))[1] == b"inside"
    listing = (await ada.get("api/contents/absolute"))[1]
    assert [i["name"] for i in listing["content"]] == ["a.txt"]


async def test_saving_through_a_link_inside_writes_its_target(ada, home):
    (home / "real.txt").write_text("old")
    os.symlink("real.txt", home / "alias.txt")
    assert (await ada.put("api/contents/alias.txt", text("new")))[0] == 200
    assert (home / "real.txt").read_text() == "new"
    assert os.path.islink(home / "alias.txt")


async def test_a_folder_with_files_is_deleted_as_with_the_trash(ada, home):
    (home / "full" / "sub").mkdir(parents=True)
    (home / "full" / "sub" / "x.txt").write_text("x")
    assert (await ada.delete("api/contents/full"))[0] == 204
    assert not (home / "full").exists()


async def test_files_in_hidden_folders_stay_hidden(ada, home):
    (home / ".secret").mkdir()
    (home / ".secret" / "x.txt").write_text("x")
    assert (await ada.get("api/contents/.secret/x.txt"))[0] == 404
    assert (await ada.get("files/.secret/x.txt"))[0] == 404
    assert (await ada.get("api/contents/.secret"))[0] == 404
    assert (await ada.put("api/contents/.secret/y.txt", text("y")))[0] in (400, 404)


async def test_a_folders_timestamp_is_its_own_not_its_descriptors(ada, home):
    (home / "sub").mkdir()
    os.utime(home / "sub", (1_000_000_000, 1_000_000_000))
    model = (await ada.get("api/contents/sub"))[1]
    assert model["last_modified"].startswith("2001-09-09")


async def test_a_file_model_is_read_off_a_descriptor_that_stays_open_only_for_the_request(
    ada, home
):
    (home / "a.txt").write_text("a")
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(50):
        assert (await ada.get("api/contents/a.txt"))[0] == 200
        assert (await ada.get("api/contents"))[0] == 200
    assert len(os.listdir("/proc/self/fd")) < before + 20


def test_a_bad_size_cap_names_the_setting_and_its_variable(monkeypatch):
    monkeypatch.setenv(MAX_BYTES_ENV, "lots")
    with pytest.raises(TraitError) as info:
        WorkspaceContentsManager().max_response_bytes  # noqa: B018
    assert MAX_BYTES_ENV in str(info.value) and "max_response_bytes" in str(info.value)
    monkeypatch.setenv(MAX_BYTES_ENV, "1024")
    assert WorkspaceContentsManager().max_response_bytes == 1024
    with pytest.raises(TraitError):
        WorkspaceContentsManager(max_response_bytes=-1)


def test_a_closed_request_resolves_nothing_from_its_old_descriptors(tmp_path):
    (tmp_path / "sub").mkdir()
    files = RequestFiles(os.open(tmp_path, DIRECTORY), str(tmp_path))
    pinned = files.pin("sub")
    assert os.path.isdir(pinned)
    files.close()
    reused = os.open(tmp_path / "sub", DIRECTORY)  # likely the same number again
    try:
        with pytest.raises(OutsideWorkspace):
            files.entry(pinned)
        with pytest.raises(OSError):
            files.pin("sub")
    finally:
        os.close(reused)


async def test_a_checkpoint_replaced_by_a_link_restores_and_reveals_nothing(tab, ada, root):
    grace = tab(GRACE, PARTNERS)
    await grace.put("api/contents/notes.txt", text("theirs"))
    await ada.put("api/contents/notes.txt", text("mine"))
    assert (await ada.post("api/contents/notes.txt/checkpoints"))[0] == 201
    checkpoint = root / "orgs" / ENGINES / ".ipynb_checkpoints" / "notes-checkpoint.txt"
    checkpoint.unlink()
    os.symlink(root / "orgs" / PARTNERS / "notes.txt", checkpoint)
    assert (await ada.post("api/contents/notes.txt/checkpoints/checkpoint"))[0] == 404
    assert (await ada.get("api/contents/notes.txt"))[1]["content"] == "mine"
    assert (await ada.get("api/contents/notes.txt/checkpoints"))[0] == 404
    assert (root / "orgs" / PARTNERS / "notes.txt").read_text() == "theirs"
