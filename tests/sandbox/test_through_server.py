"""The switch on a real Jupyter server: kernels started over HTTP and terminals are sandboxed."""

from __future__ import annotations

import pytest
from tornado import web
from websockets.asyncio.client import connect

from jupyter_clerk.sandbox.specs import SandboxKernelSpecManager
from jupyter_clerk.sandbox.terminals import SandboxedTerminalManager
from tests.devinstance.helpers import ADA, ENGINES, PARTNERS
from tests.identity.test_websockets import run_cell, ws_base

SECRET = "the-partners-secret"


@pytest.fixture
def jp_server_config(jp_server_config):
    return {**jp_server_config, "ClerkApp": {"sandbox_kernels": True, "terminals": True}}


@pytest.fixture
def partners_secret(root):
    directory = root / "orgs" / PARTNERS
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "secret.txt").write_text(SECRET)
    return directory / "secret.txt"


@pytest.fixture
def server_secrets(monkeypatch):
    monkeypatch.setenv("CLERK_SECRET_KEY", "sk_test_serverSecret")
    monkeypatch.setenv("DATABASE_PASSWORD", "hunter2")


async def test_kernels_started_over_http_run_in_the_sandbox(
    tab, server_url, root, partners_secret, server_secrets, jp_serverapp
):
    assert isinstance(jp_serverapp.kernel_spec_manager, SandboxKernelSpecManager)
    ada = tab(ADA, ENGINES)
    code, model = await ada.post("api/kernels")
    assert code == 201, model
    url = f"{ws_base(server_url)}api/kernels/{model['id']}/channels?token={ada.token}"
    async with connect(url) as ws:
        assert await run_cell(ws, "import os; 1") == "1"
        assert await run_cell(ws, "os.getcwd()") == "'/workspace'"
        assert await run_cell(ws, f"os.path.exists({str(partners_secret)!r})") == "False"
        assert await run_cell(ws, f"os.path.exists({str(root)!r})") == "False"
        leaked = await run_cell(ws, "[k for k in os.environ if 'SECRET' in k or 'PASS' in k]")
        assert leaked == "[]"


def read_all(terminal) -> str:
    output = []
    while True:
        try:
            output.append(terminal.ptyproc.read(65536))
        except EOFError:
            return "".join(output)


async def test_terminals_run_their_shell_in_the_sandbox(
    jp_serverapp, root, partners_secret, server_secrets
):
    manager = jp_serverapp.web_app.settings["terminal_manager"]
    assert isinstance(manager, SandboxedTerminalManager)
    workspace = root / "orgs" / ENGINES
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "mine.txt").write_text("engines notes")
    terminal = manager.new_terminal(cwd=str(workspace))
    terminal.ptyproc.write(
        f"pwd; cat mine.txt; cat {partners_secret} ../{PARTNERS}/secret.txt; "
        "env | grep -c -e SECRET -e PASSWORD; ls /proc | grep -c '^[0-9]'; "
        "echo uid=$(id -u); echo written > from-terminal.txt; exit\n"
    )
    output = read_all(terminal)
    assert "uid=61000" in output  # not root, and still able to write its workspace
    assert (workspace / "from-terminal.txt").read_text() == "written\n"
    assert "/workspace" in output and "engines notes" in output
    assert SECRET not in output.replace(f"{SECRET}.txt", "")
    assert "No such file or directory" in output
    assert "sk_test_serverSecret" not in output and "hunter2" not in output


@pytest.mark.parametrize("where", [None, "", "orgs"])
async def test_a_terminal_outside_one_workspace_is_refused(jp_serverapp, root, where):
    manager = jp_serverapp.web_app.settings["terminal_manager"]
    (root / "orgs").mkdir(exist_ok=True)
    cwd = None if where is None else str(root / where)
    with pytest.raises(web.HTTPError) as refused:
        manager.new_terminal(cwd=cwd)
    assert refused.value.status_code == 403


async def test_sandboxed_terminals_over_http_stay_in_their_owners_workspace(
    tab, server_url, root, partners_secret
):
    ada, grace = tab(ADA, ENGINES), tab("user_2aDemoGraceHopper", PARTNERS)
    code, model = await ada.post("api/terminals", {"cwd": str(partners_secret.parent)})
    assert code == 200
    manager_terminal = model["name"]
    assert (await grace.get(f"api/terminals/{manager_terminal}"))[0] == 404
    url = f"{ws_base(server_url)}terminals/websocket/{manager_terminal}?token={grace.token}"
    with pytest.raises(Exception) as refused:
        async with connect(url):
            pass
    assert getattr(refused.value, "response", None).status_code == 404
