"""`python -m jupyter_clerk.devinstance`: prints and writes what Jupyter needs, stops on Ctrl-C."""

import json
import signal
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from jupyter_clerk.auth.publishable_key import parse_publishable_key
from jupyter_clerk.devinstance.__main__ import parse_args

ROOT = Path(__file__).resolve().parents[2]


def start_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "jupyter_clerk.devinstance", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_cli_prints_settings_writes_private_env_file_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    env_file = tmp_path / "clerk.env"
    process = start_cli(
        "--port", "0", "--allowed-origin", "http://127.0.0.1:8888", "--env-file", str(env_file)
    )
    try:
        printed = []
        for line in process.stdout:
            printed.append(line)
            if "Ctrl-C" in line:
                break
        output = "".join(printed)
        assert "DEVELOPMENT-ONLY" in output and "NEVER expose" in output
        settings = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
        assert set(settings) == {
            "CLERK_PUBLISHABLE_KEY",
            "CLERK_SECRET_KEY",
            "CLERK_API_URL",
            "CLERK_JWKS_URL",
        }
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        assert f"CLERK_API_URL={settings['CLERK_API_URL']}" in output
        assert settings["CLERK_API_URL"].startswith("http://127.0.0.1:")
        assert settings["CLERK_SECRET_KEY"].startswith("sk_test_")
        frontend_api = parse_publishable_key(settings["CLERK_PUBLISHABLE_KEY"]).frontend_api
        assert settings["CLERK_API_URL"] == f"http://{frontend_api}"
        with urllib.request.urlopen(settings["CLERK_JWKS_URL"], timeout=5) as response:  # noqa: S310
            assert json.load(response)["keys"][0]["kid"].startswith("ins_")
    finally:
        process.send_signal(signal.SIGINT)
        remaining, errors = process.communicate(timeout=10)
    assert process.returncode == 0, errors
    assert "Stopped." in remaining
    assert "Traceback" not in errors


def test_cli_reports_an_unusable_host_without_a_traceback() -> None:
    process = start_cli("--port", "0", "--host", "localhost", "--allowed-origin", "http://x:1")
    _, errors = process.communicate(timeout=10)
    assert process.returncode == 2
    assert "127.0.0.1 rather than localhost" in errors and "Traceback" not in errors


def test_cli_requires_an_allowed_origin(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--port", "0"])
    assert "--allowed-origin" in capsys.readouterr().err


def test_cli_binds_loopback_by_default() -> None:
    args = parse_args(["--allowed-origin", "http://127.0.0.1:8888"])
    assert (args.host, args.port, args.token_lifetime) == ("127.0.0.1", 8765, 60)
