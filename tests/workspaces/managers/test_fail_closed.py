"""With no workspace known, the managers refuse: there is no fallback to the server root."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
from jupyter_server import CallContext

from jupyter_clerk.workspaces.contents import NO_WORKSPACE
from jupyter_clerk.workspaces.kernel_env import scrub_environment
from jupyter_clerk.workspaces.resolution import WorkspaceRequired
from tests.devinstance.helpers import ADA, ENGINES


@pytest.fixture
def request_without_workspace():
    handler = SimpleNamespace(current_user=SimpleNamespace(username="user_2aNobody"))
    CallContext.set(CallContext.JUPYTER_HANDLER, handler)
    yield
    CallContext.set(CallContext.JUPYTER_HANDLER, None)


async def test_contents_refuse_a_request_without_workspace(jp_serverapp, request_without_workspace):
    manager = jp_serverapp.contents_manager
    with pytest.raises(WorkspaceRequired):
        _ = manager.root_dir
    with pytest.raises(WorkspaceRequired):
        await manager.get("")


async def test_kernels_refuse_a_request_without_workspace(jp_serverapp, request_without_workspace):
    with pytest.raises(WorkspaceRequired):
        await jp_serverapp.kernel_manager.start_kernel()
    assert jp_serverapp.kernel_manager.list_kernel_ids() == []


async def test_outside_requests_the_root_is_nowhere(jp_serverapp):
    open(os.path.join(jp_serverapp.root_dir, "root.txt"), "w").close()
    manager = jp_serverapp.contents_manager
    assert manager.root_dir == NO_WORKSPACE
    assert not os.path.exists(NO_WORKSPACE)
    with pytest.raises(Exception) as info:
        await manager.get("root.txt")
    assert getattr(info.value, "status_code", None) == 404


async def test_a_planted_link_cannot_move_a_workspace(tab, root, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / "orgs").mkdir(parents=True, exist_ok=True)
    os.symlink(elsewhere, root / "orgs" / ENGINES)
    assert (await tab(ADA, ENGINES).get("api/contents"))[0] == 403


async def test_nul_in_a_path_is_refused(tab):
    assert (await tab(ADA, ENGINES).get("api/contents/a%00b.txt"))[0] in (400, 404)


def test_secrets_are_scrubbed_from_kernel_and_terminal_environments():
    env = {
        "CLERK_SECRET_KEY": "sk",
        "clerk_publishable_key": "pk",
        "JUPYTER_TOKEN": "t",
        "JPY_API_TOKEN": "t",
        "AWS_SECRET_ACCESS_KEY": "a",
        "STRIPE_SECRET_KEY": "s",
        "MY_PASSWORD": "p",
        "PATH": "/usr/bin",
        "HOME": "/home/x",
    }
    kept = scrub_environment(env, ["MY_PASSWORD"])
    assert kept == {"PATH": "/usr/bin", "HOME": "/home/x"}
