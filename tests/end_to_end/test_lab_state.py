"""JupyterLab layouts and user settings belong to one person, not to the whole server."""

from __future__ import annotations

import json

import pytest

from tests.devinstance.helpers import ADA, ENGINES, GRACE, PARTNERS

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
