"""JupyterLab's own handlers: layouts and settings per person, the shared environment
changed by server administrators only."""

from __future__ import annotations

import json

import pytest

from tests.devinstance.helpers import ADA, ENGINES, GRACE, LINUS, PARTNERS, VERA

THEME = "@jupyterlab/apputils-extension:themes"


@pytest.fixture
def jp_server_config(jp_server_config):
    extensions = {**jp_server_config["ServerApp"]["jpserver_extensions"], "jupyterlab": True}
    return {**jp_server_config, "ServerApp": {"jpserver_extensions": extensions}}


async def test_layouts_are_stored_per_person(tab, root):
    ada, grace = tab(ADA, ENGINES), tab(GRACE, PARTNERS)
    layout = {
        "data": {"layout-restorer:data": {"main": "ada-notes.ipynb"}},
        "metadata": {"id": "default"},
    }
    assert (await ada.put("lab/api/workspaces/default", layout))[0] == 204
    code, seen_by_grace = await grace.get("lab/api/workspaces/default")
    assert code == 200
    assert "ada-notes" not in json.dumps(seen_by_grace)
    assert "ada-notes" in json.dumps((await ada.get("lab/api/workspaces/default"))[1])
    assert (root / ".jupyter-clerk" / "lab" / ADA / "layouts").is_dir()


async def test_settings_are_stored_per_person(tab):
    ada, grace = tab(ADA, ENGINES), tab(GRACE, PARTNERS)
    raw = json.dumps({"theme": "JupyterLab Dark"})
    assert (await ada.put(f"lab/api/settings/{THEME}", {"raw": raw}))[0] == 204
    assert "Dark" in (await ada.get(f"lab/api/settings/{THEME}"))[1]["raw"]
    assert "Dark" not in (await grace.get(f"lab/api/settings/{THEME}"))[1]["raw"]


async def test_lab_state_needs_a_signed_in_person(fetch):
    assert (await fetch("lab/api/workspaces/default")).code in (401, 403)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("lab/api/extensions", {"cmd": "install", "extension_name": "attacker-package"}),
        ("lab/api/extensions", {"cmd": "uninstall", "extension_name": "jupyter-clerk"}),
        ("lab/api/plugins", {"cmd": "disable", "plugin_name": "@jupyter-clerk/labextension"}),
        ("lab/api/build", {}),
    ],
)
async def test_only_server_admins_change_the_shared_environment(tab, path, body):
    for person in (tab(VERA, ENGINES), tab(ADA, ENGINES), tab(LINUS)):
        assert (await person.post(path, body))[0] == 403


async def test_extension_manager_cannot_install_anything(jp_serverapp):
    assert jp_serverapp.config.LabApp.extension_manager == "readonly"


class TestServerAdmin:
    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        return {**jp_server_config, "ClerkAuthorizer": {"server_admins": [GRACE]}}

    async def test_server_admins_pass_the_guard(self, tab):
        code, _ = await tab(GRACE, PARTNERS).post(
            "lab/api/plugins", {"cmd": "enable", "plugin_name": "@jupyterlab/nope"}
        )
        assert code != 403


async def test_no_language_server_starts_by_itself(jp_serverapp):
    assert jp_serverapp.config.LanguageServerManager.autodetect is False
