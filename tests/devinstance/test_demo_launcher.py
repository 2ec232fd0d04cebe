"""`make demo`: a busy port or a missing Node.js is a plain sentence, never a traceback."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(command: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def launcher(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "jupyter_clerk.devinstance.demo", "--root", str(tmp_path)]
    return run(command, tmp_path, **env)


def preflight(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # As the Makefile runs it: a plain file, before the virtual environment exists.
    script = ROOT / "jupyter_clerk/devinstance/preflight.py"
    return run([sys.executable, str(script)], tmp_path, **env)


def assert_plain_refusal(result: subprocess.CompletedProcess[str], port: int, variable: str):
    assert result.returncode == 2
    assert f"Port {port}" in result.stderr and "already in use" in result.stderr
    assert f"{variable}=<port> make demo" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "Open http" not in result.stdout


def test_launcher_refuses_a_busy_jupyter_port(tmp_path, busy_port):
    result = launcher(tmp_path, JUPYTER_PORT=str(busy_port), CLERK_PORT=str(free_port()))
    assert_plain_refusal(result, busy_port, "JUPYTER_PORT")


def test_launcher_refuses_a_busy_clerk_port(tmp_path, busy_port):
    result = launcher(tmp_path, JUPYTER_PORT=str(free_port()), CLERK_PORT=str(busy_port))
    assert_plain_refusal(result, busy_port, "CLERK_PORT")


def test_launcher_refuses_a_port_that_is_not_a_number(tmp_path):
    result = launcher(tmp_path, JUPYTER_PORT="88a8")
    assert result.returncode == 2
    assert "JUPYTER_PORT='88a8' is not a port number" in result.stderr
    assert "Traceback" not in result.stderr


def test_preflight_checks_ports_before_the_environment_exists(tmp_path, busy_port):
    result = preflight(tmp_path, JUPYTER_PORT=str(free_port()), CLERK_PORT=str(busy_port))
    assert_plain_refusal(result, busy_port, "CLERK_PORT")


def test_preflight_names_node_when_it_is_missing(tmp_path):
    # A PATH with Python only: no node, no npm.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    result = preflight(tmp_path, PATH=str(bin_dir))
    assert result.returncode == 2
    assert "node and npm not found" in result.stderr and "Node.js >= 20" in result.stderr
    assert "Traceback" not in result.stderr


async def test_a_jupyter_that_exited_is_never_announced(tmp_path):
    from jupyter_clerk.devinstance.demo import jupyter_answers

    exited = await asyncio.create_subprocess_exec(sys.executable, "-c", "raise SystemExit(3)")
    assert not await jupyter_answers(f"http://127.0.0.1:{free_port()}/api", exited)
