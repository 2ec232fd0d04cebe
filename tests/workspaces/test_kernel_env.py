"""The environment kernels and terminals start with: an allowlist, secrets never."""

from __future__ import annotations

from traitlets.config import Config, LoggingConfigurable

from jupyter_clerk.workspaces.kernel_env import scrub_environment

SERVER = {
    "PATH": "/usr/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "OPENAI_API_KEY": "sk-openai",
    "DATABASE_URL": "postgres://app:hunter2@db/app",
    "CLERK_SECRET_KEY": "sk_test",
    "STRIPE_SECRET_KEY": "sk_live",
    "HF_TOKEN": "hf",
}


def test_only_allowlisted_variables_reach_a_kernel():
    assert scrub_environment(SERVER) == {"PATH": "/usr/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}


def test_the_allowlist_is_configurable_by_trait_and_environment(monkeypatch):
    server = LoggingConfigurable(config=Config({"KernelEnvironment": {"allowed": ["HF_*"]}}))
    assert scrub_environment(SERVER, parent=server) == {"HF_TOKEN": "hf"}
    monkeypatch.setenv("CLERK_KERNEL_ENV_ALLOW", "openai_api_key, DATABASE_URL")
    kept = scrub_environment(SERVER)
    assert kept["OPENAI_API_KEY"] == "sk-openai" and "DATABASE_URL" in kept


def test_secrets_never_pass_even_when_everything_is_allowed():
    server = LoggingConfigurable(config=Config({"KernelEnvironment": {"allowed": ["*"]}}))
    kept = scrub_environment(SERVER, ["HF_*"], parent=server)
    assert set(kept) == {"PATH", "LANG", "LC_ALL", "OPENAI_API_KEY", "DATABASE_URL"}
