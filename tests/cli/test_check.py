"""`jupyter clerk check` against the local instance: what it proves, what it refuses."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from traitlets.config import Config

from jupyter_clerk.cli.main import CheckApp, report
from jupyter_clerk.devinstance import DevInstance

PARTY = "https://notebooks.example.com"


@pytest.fixture
def check(monkeypatch):
    """The check in-process, with exactly the CLERK_* variables given."""

    async def run(tmp_path: Path, **env: str) -> tuple[int, str]:
        for name in list(os.environ):
            if name.startswith("CLERK_"):
                monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return report(await CheckApp(config=Config()).findings())

    return run


async def check_as_operator(tmp_path: Path, **env: str) -> tuple[int, str]:
    """Runs the console script as an operator would, with only the CLERK_* given."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CLERK_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "jupyter_clerk.cli.main",
        "check",
        env={**clean, "JUPYTER_CONFIG_DIR": str(tmp_path), "JUPYTER_NO_CONFIG": "1", **env},
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode, output.decode()


def instance_env(instance: DevInstance, **overrides: str) -> dict[str, str]:
    return {
        "CLERK_PUBLISHABLE_KEY": instance.publishable_key,
        "CLERK_SECRET_KEY": instance.secret_key,
        "CLERK_API_URL": instance.api_url,
        "CLERK_ALLOW_LOCAL_INSTANCE": "1",
        "CLERK_AUTHORIZED_PARTIES": PARTY,
        **overrides,
    }


async def test_a_good_configuration_passes_and_says_what_is_on(clerk_instance, tmp_path):
    code, output = await check_as_operator(
        tmp_path,
        **instance_env(clerk_instance, CLERK_WEBHOOK_SIGNING_SECRET="whsec_" + "A" * 32),
    )
    assert code == 0, output
    assert "ok    JWKS: 1 key(s) from" in output
    assert "ok    Backend API:" in output and "accepts the secret key" in output
    assert "ok    webhooks: signing secret well formed" in output
    assert "on    client tokens" in output
    assert "No problems found." in output
    assert clerk_instance.secret_key not in output


async def test_a_wrong_secret_key_is_a_problem(clerk_instance, check, tmp_path):
    env = instance_env(clerk_instance, CLERK_SECRET_KEY="sk_test_" + "x" * 40)
    code, output = await check(tmp_path, **env)
    assert code == 1
    assert "FAIL  Backend API:" in output and "refuses the secret key (401)" in output
    assert "x" * 40 not in output


async def test_an_unreachable_jwks_is_a_problem(clerk_instance, check, tmp_path):
    env = instance_env(clerk_instance, CLERK_JWKS_URL=f"{clerk_instance.url}/no-such-jwks")
    code, output = await check(tmp_path, **env)
    assert code == 1
    assert "FAIL  JWKS:" in output and "could not be read" in output


async def test_without_a_secret_key_it_says_what_is_off_and_why(clerk_instance, check, tmp_path):
    env = instance_env(clerk_instance)
    del env["CLERK_SECRET_KEY"]
    env["CLERK_JWKS_URL"] = clerk_instance.jwks_url
    code, output = await check(tmp_path, **env)
    assert code == 0, output
    assert "off   Backend API: no secret key" in output
    assert "off   client tokens of scripts" in output and "needs" in output
    assert "off   webhooks: no signing secret" in output


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"CLERK_WEBHOOK_SIGNING_SECRET": "not-a-secret"}, "starts with whsec_"),
        ({"CLERK_SECRET_KEY": "sk_live_" + "x" * 40}, "different instances"),
        ({"CLERK_AUTHORIZED_PARTIES": "notebooks.example.com"}, "is not an origin"),
    ],
)
async def test_malformed_settings_are_problems(
    clerk_instance, check, tmp_path, overrides, expected
):
    code, output = await check(tmp_path, **instance_env(clerk_instance, **overrides))
    assert code == 1
    assert expected in output


async def test_nothing_configured_says_everything_to_set(check, tmp_path):
    code, output = await check(tmp_path)
    assert code == 1
    assert "CLERK_PUBLISHABLE_KEY" in output and "CLERK_AUTHORIZED_PARTIES" in output
    assert "Traceback" not in output


def test_help_all_lists_every_option_with_its_help():
    result = subprocess.run(
        [sys.executable, "-m", "jupyter_clerk.cli.main", "--help-all"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    for option in (
        "--ClerkIdentityProvider.publishable_key",
        "--ClerkApp.webhook_signing_secret",
        "--ClerkAuthorizer.role_actions",
        "--ClerkSandbox.network",
    ):
        assert option in result.stdout
    assert "Env: CLERK_PUBLISHABLE_KEY" in result.stdout
