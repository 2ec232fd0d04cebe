"""Which directory a sandbox gets, and when the server refuses to run sandboxes at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_clerk.errors import ClerkConfigError
from jupyter_clerk.sandbox.policy import ClerkSandbox, Protections, SandboxError
from jupyter_clerk.sandbox.provisioner import SandboxProvisioner
from jupyter_clerk.sandbox.specs import SandboxKernelSpecManager


def test_the_whole_workspace_is_bound_and_the_kernel_starts_in_its_subdirectory(server_root):
    (server_root / "orgs" / "org_A" / "project" / "data").mkdir(parents=True)
    cwd = server_root / "orgs" / "org_A" / "project" / "data"
    workspace, inside = ClerkSandbox().locate(str(cwd), str(server_root))
    assert workspace == str((server_root / "orgs" / "org_A").resolve())
    assert inside == "/workspace/project/data"


@pytest.mark.parametrize("where", ["", ".", "orgs", "users", "elsewhere", "../outside"])
def test_a_directory_that_is_not_one_workspace_is_refused(server_root, where):
    (server_root / "elsewhere").mkdir()
    (server_root.parent / "outside").mkdir()
    cwd = str(server_root / where) if where else None
    with pytest.raises(SandboxError):
        ClerkSandbox().locate(cwd, str(server_root))


def test_a_symlink_into_another_workspace_is_refused(server_root):
    link = server_root / "orgs" / "org_A" / "to-b"
    link.symlink_to(server_root / "orgs" / "org_B")
    with pytest.raises(SandboxError):
        ClerkSandbox().locate(str(link), str(server_root))


def test_a_kernel_spec_naming_another_provisioner_still_starts_sandboxed(
    tmp_path, start_kernel, server_root
):
    spec_dir = tmp_path / "kernels" / "escape"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "escape",
        "language": "python",
        "metadata": {"kernel_provisioner": {"provisioner_name": "local-provisioner"}},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    specs = SandboxKernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")])
    assert specs.get_kernel_spec("escape").metadata["kernel_provisioner"] == {
        "provisioner_name": "clerk-sandbox",
        "config": {},
    }
    kernel = start_kernel(server_root / "orgs" / "org_A", kernel_name="escape", specs=specs)
    assert isinstance(kernel.km.provisioner, SandboxProvisioner)
    assert kernel.value("os.getcwd()") == "/workspace"


def test_start_up_check_refuses_missing_or_broken_bubblewrap():
    with pytest.raises(ClerkConfigError, match="not installed"):
        ClerkSandbox(bwrap="/nonexistent/bwrap").check([])
    with pytest.raises(ClerkConfigError, match="cannot run here"):
        ClerkSandbox(bwrap="false").check([])
    ClerkSandbox().check([])


def test_start_up_check_refuses_sandboxes_that_would_keep_root(monkeypatch):
    assert os.geteuid() == 0, "the check matters for a server running as root, as in CI"
    with pytest.raises(ClerkConfigError, match="must not be 0"):
        ClerkSandbox(user_id=0).check([])
    with pytest.raises(ClerkConfigError, match="must not be 0"):
        ClerkSandbox(group_id=0).check([])
    monkeypatch.setenv("CLERK_SANDBOX_UID", "0")
    with pytest.raises(ClerkConfigError, match="must not be 0"):
        ClerkSandbox().check([])
    monkeypatch.setenv("CLERK_SANDBOX_UID", "root")
    with pytest.raises(ClerkConfigError, match=r"CLERK_SANDBOX_UID='root': c.ClerkSandbox.user_id"):
        ClerkSandbox().check([])
    monkeypatch.delenv("CLERK_SANDBOX_UID")
    # Without the switch to an unprivileged uid, the probe inside the sandbox notices.
    monkeypatch.setattr(ClerkSandbox, "protections", Protections(privileges=False))
    with pytest.raises(ClerkConfigError, match="/proc/sys writable or uid 0"):
        ClerkSandbox().check([])


def test_start_up_check_refuses_a_server_root_without_acls(tmp_path, monkeypatch):
    ClerkSandbox().check_sharing(str(tmp_path))
    assert os.listdir(tmp_path) == []  # the probe cleans up after itself

    def unsupported(*args, **kwargs):
        raise OSError(95, "Operation not supported")

    monkeypatch.setattr(os, "setxattr", unsupported)
    with pytest.raises(ClerkConfigError, match=r"c\.ClerkSandbox\.user_id.*POSIX ACLs"):
        ClerkSandbox().check_sharing(str(tmp_path))


def test_start_up_check_refuses_a_user_network_without_pasta(monkeypatch):
    with pytest.raises(ClerkConfigError, match="install the passt package"):
        ClerkSandbox(pasta="/nonexistent/pasta").check([])
    ClerkSandbox(pasta="/nonexistent/pasta", network="loopback").check([])
    monkeypatch.setenv("CLERK_SANDBOX_NETWORK", "everything")
    with pytest.raises(ClerkConfigError, match="CLERK_SANDBOX_NETWORK"):
        ClerkSandbox().network  # noqa: B018 - read for its default
    monkeypatch.setenv("CLERK_SANDBOX_NETWORK", "host")
    assert ClerkSandbox().network == "host"


def test_start_up_check_refuses_a_server_root_inside_a_read_only_path(tmp_path):
    with pytest.raises(ClerkConfigError, match="inside the read-only path"):
        ClerkSandbox(read_only_paths=[str(tmp_path)]).check([str(tmp_path / "root")])


def run_server(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLERK_")}
    return subprocess.run(
        [sys.executable, "-m", "jupyter_server", "--ServerApp.port=0", "--no-browser", *args],
        env={**env, "JUPYTER_CONFIG_DIR": str(tmp_path), "CLERK_SANDBOX_KERNELS": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )


def test_server_refuses_to_start_when_bubblewrap_cannot_run(tmp_path):
    result = run_server(
        tmp_path,
        "--ServerApp.jpserver_extensions={'jupyter_clerk': True}",
        "--ClerkSandbox.bwrap=/nonexistent/bwrap",
    )
    assert result.returncode == 1
    assert "Bad config encountered during initialization" in result.stderr
    assert "bubblewrap (/nonexistent/bwrap) is not installed" in result.stderr


def test_without_a_pids_cgroup_the_default_task_limit_is_dropped_with_a_warning(
    monkeypatch, caplog
):
    from jupyter_clerk.sandbox import launcher

    monkeypatch.delenv("CLERK_SANDBOX_MAX_TASKS", raising=False)
    monkeypatch.setattr(launcher, "_pids_hierarchy", lambda: None)
    assert ClerkSandbox().task_limit() == "-"
    assert "c.ClerkSandbox.max_tasks (CLERK_SANDBOX_MAX_TASKS) is not applied" in caplog.text
    assert "no pids cgroup hierarchy" in caplog.text


@pytest.mark.parametrize("source", ["config", "environment"])
def test_a_task_limit_the_operator_set_stops_the_start_where_it_cannot_hold(monkeypatch, source):
    from jupyter_clerk.sandbox import launcher

    monkeypatch.setattr(launcher, "_pids_hierarchy", lambda: None)
    if source == "environment":
        monkeypatch.setenv("CLERK_SANDBOX_MAX_TASKS", "64")
        policy = ClerkSandbox()
    else:
        policy = ClerkSandbox(max_tasks=64)
    with pytest.raises(ClerkConfigError, match=r"max_tasks \(\$CLERK_SANDBOX_MAX_TASKS\) is set"):
        policy.task_limit()


def test_the_task_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("CLERK_SANDBOX_MAX_TASKS", "77")
    assert ClerkSandbox().max_tasks == 77
    assert ClerkSandbox(max_tasks=0).task_limit() == "-"


@pytest.mark.parametrize("value", ["many", "-5", "1e3"])
def test_a_malformed_task_limit_names_the_setting_and_the_variable(monkeypatch, value):
    monkeypatch.setenv("CLERK_SANDBOX_MAX_TASKS", value)
    with pytest.raises(
        ClerkConfigError, match=r"CLERK_SANDBOX_MAX_TASKS.*c.ClerkSandbox.max_tasks"
    ):
        ClerkSandbox().task_limit()
