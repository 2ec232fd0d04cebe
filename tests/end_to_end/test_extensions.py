"""Real-time collaboration (jupyter-collaboration) in a server shared by organizations.

With the guard switched off the attack works: two organizations' `Untitled.ipynb` get one
file id, so one room, and the file-id endpoints answer across organizations. With the guard
on, the server does not start and says which extension to turn off and how."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from jupyter_clerk.workspaces import extensions
from tests.devinstance.helpers import ADA, ENGINES, GRACE, PARTNERS
from tests.forge import ISSUER, PARTY

COLLABORATION = {"jupyter_server_ydoc": True, "jupyter_server_fileid": True}
EMPTY_NOTEBOOK = {
    "type": "notebook",
    "format": "json",
    "content": {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5},
}


class TestWithoutTheGuard:
    """What the guard prevents, shown by switching it off."""

    @pytest.fixture(autouse=True)
    def guard_off(self, monkeypatch):
        monkeypatch.setattr(extensions, "REFUSED_EXTENSIONS", {})

    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        server = jp_server_config["ServerApp"]
        enabled = {**server["jpserver_extensions"], **COLLABORATION}
        return {**jp_server_config, "ServerApp": {**server, "jpserver_extensions": enabled}}

    async def test_two_organizations_share_a_room_and_file_ids(self, tab):
        ada, grace = tab(ADA, ENGINES), tab(GRACE, PARTNERS)
        rooms = []
        for person in (ada, grace):
            assert (await person.put("api/contents/Untitled.ipynb", EMPTY_NOTEBOOK))[0] == 201
            code, session = await person.put(
                "api/collaboration/session/Untitled.ipynb", {"format": "json", "type": "notebook"}
            )
            assert code in (200, 201), session
            rooms.append(f"json:notebook:{session['fileId']}")
        assert rooms[0] == rooms[1]  # org B's member would join org A's document
        await ada.put("api/contents/plans.ipynb", EMPTY_NOTEBOOK)
        code, found = await ada.put(
            "api/collaboration/session/plans.ipynb", {"format": "json", "type": "notebook"}
        )
        code, answer = await grace.get(f"api/fileid/path?id={found['fileId']}")
        assert (code, answer["path"]) == (200, "plans.ipynb")  # org A's file, told to org B


def start_server(tmp_path, forge, enabled: dict[str, bool]) -> subprocess.CompletedProcess:
    """A real `jupyter server` start-up, in its own environment, that stops at once."""
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    extensions_arg = ",".join(f'"{name}": {bool(on)}' for name, on in enabled.items())
    code = (
        "import sys; from jupyter_server.serverapp import ServerApp; "
        "app = ServerApp(); "
        f"app.initialize(['--ServerApp.root_dir={tmp_path}', '--ServerApp.port=0', "
        "], new_httpserver=False); print('STARTED')"
    )
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    (config / "jupyter_server_config.py").write_text(
        f"c.ServerApp.jpserver_extensions = {{{extensions_arg}}}\n"
        f"c.ClerkIdentityProvider.jwt_key = {forge.public_pem!r}\n"
        f"c.ClerkIdentityProvider.issuer = {ISSUER!r}\n"
        f"c.ClerkIdentityProvider.authorized_parties = [{PARTY!r}]\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_server_refuses_to_start_with_real_time_collaboration(tmp_path, forge):
    result = start_server(tmp_path, forge, {"jupyter_clerk": True, **COLLABORATION})
    assert result.returncode != 0
    assert "STARTED" not in result.stdout
    for name in COLLABORATION:
        assert f"jupyter server extension disable --sys-prefix {name}" in result.stderr


def test_the_server_starts_once_collaboration_is_turned_off(tmp_path, forge):
    off = dict.fromkeys(COLLABORATION, False)
    result = start_server(tmp_path, forge, {"jupyter_clerk": True, **off})
    assert "STARTED" in result.stdout, result.stderr[-2000:]


@pytest.mark.parametrize("name", sorted(extensions.REFUSED_EXTENSIONS))
def test_every_refused_extension_is_named_with_how_to_turn_it_off(name):
    with pytest.raises(extensions.ClerkConfigError) as info:
        extensions.refuse_shared_root_extensions({name: True, "jupyterlab": True})
    assert f"jupyter server extension disable --sys-prefix {name}" in str(info.value)
    extensions.refuse_shared_root_extensions({name: False, "jupyterlab": True})


def test_an_extension_enabled_by_one_of_its_modules_is_refused_too():
    with pytest.raises(extensions.ClerkConfigError) as info:
        extensions.refuse_shared_root_extensions({"voila.server_extension": True})
    assert "jupyter server extension disable --sys-prefix voila.server_extension" in str(info.value)
