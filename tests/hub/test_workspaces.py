"""Hub mode's top bar: the Hub's list of a person's workspaces, and the page config that
turns the hub top bar on in single-user servers."""

from __future__ import annotations

import pytest
from jupyter_core.paths import jupyter_path
from jupyterlab_server.config import get_page_config

from jupyter_clerk.clerk_api.models import Membership
from jupyter_clerk.hub.names import server_name
from jupyter_clerk.hub.singleuser import use_hub_front_end
from jupyter_clerk.hub.workspaces import workspace_entries
from tests.hub.conftest import ADA, ENGINES, PARTNERS


def membership(org: str, name: str, slug: str | None = None) -> Membership:
    return Membership(f"orgmem_{org[4:]}", ADA, org, slug, name, "org:member", frozenset())


def test_organizations_come_by_name_then_personal_each_with_its_server() -> None:
    entries = workspace_entries(
        {
            PARTNERS: membership(PARTNERS, "difference Partners"),
            ENGINES: membership(ENGINES, "Analytical Engines"),
        },
        personal_enabled=True,
    )
    assert [(e["workspace"], e["label"], e["server"]) for e in entries] == [
        (ENGINES, "Analytical Engines", server_name(ENGINES)),
        (PARTNERS, "difference Partners", server_name(PARTNERS)),
        ("personal", "Personal", ""),
    ]


def test_no_personal_workspace_is_offered_when_they_are_turned_off() -> None:
    entries = workspace_entries({ENGINES: membership(ENGINES, "")}, personal_enabled=False)
    assert [(e["workspace"], e["label"]) for e in entries] == [(ENGINES, ENGINES)]
    entries = workspace_entries({ENGINES: membership(ENGINES, "", "engines")}, False)
    assert entries[0]["label"] == "engines"


def test_hub_mode_pages_run_the_hub_top_bar_with_jupyterlabs_own_server_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environ: dict[str, str] = {}
    use_hub_front_end(environ)
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", environ["JUPYTER_CONFIG_PATH"])
    config = get_page_config(jupyter_path("labextensions"))
    disabled = set(config["disabledExtensions"])
    clerk = "@jupyter-clerk/labextension"
    assert {f"{clerk}:{p}" for p in ("session", "server-settings", "top-bar", "role")} <= disabled
    assert f"{clerk}:hub-top-bar" not in disabled and clerk not in disabled
    # Our package.json disables JupyterLab's own; behind the Hub it must run again.
    assert "@jupyterlab/services-extension:server-settings" not in disabled
    assert config["clerkHub"] is True
