"""What the extension does once the server's event loop runs (the real server only)."""

from __future__ import annotations

import gc

import pytest


def clerk_app(serverapp):
    return serverapp.extension_manager.extension_points["jupyter_clerk"].app


@pytest.fixture
def gc_calls(monkeypatch) -> list[str]:
    """Records instead of freezing: the test process must keep collecting its own objects."""
    calls: list[str] = []
    monkeypatch.setattr(gc, "collect", lambda *args: calls.append("collect"))
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    return calls


async def test_a_started_server_freezes_its_start_up_objects_out_of_collections(
    jp_serverapp, gc_calls
):
    await jp_serverapp.extension_manager.start_all_extensions()
    assert gc_calls == ["collect", "freeze"]


async def test_the_baseline_server_of_the_benches_is_left_as_jupyter_runs(jp_serverapp, gc_calls):
    app = clerk_app(jp_serverapp)
    app.configure_server = False
    await app._start_jupyter_server_extension(jp_serverapp)
    assert gc_calls == []
