"""`jupyter clerk`: `check` a configuration against its Clerk instance; `--help-all` lists
every option of jupyter-clerk with its help.

Jupyter Server prints its own `--help-all` before it loads any extension, so the options of
an extension cannot appear there; this command is where an operator finds them.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from jupyter_core.application import JupyterApp

from .. import __version__
from ..app import ClerkApp
from ..identity.provider import ClerkIdentityProvider
from ..sandbox.policy import ClerkSandbox
from ..workspaces.authorizer import ClerkAuthorizer
from .checks import (
    Finding,
    backend_api_finding,
    feature_findings,
    issuer_findings,
    jwks_finding,
    key_findings,
    provider_or_finding,
    webhook_finding,
)

CLASSES = [ClerkApp, ClerkIdentityProvider, ClerkAuthorizer, ClerkSandbox]
_MARKS = {"ok": "ok  ", "warning": "WARN", "problem": "FAIL", "on": "on  ", "off": "off "}


def render(finding: Finding) -> str:
    detail = f": {finding.detail}" if finding.detail else ""
    return f"  {_MARKS[finding.status]}  {finding.subject}{detail}"


def report(findings: list[Finding]) -> tuple[int, str]:
    """The exit status (1 on any problem) and the text an operator reads."""
    checks = [f for f in findings if f.status in ("ok", "warning", "problem")]
    features = [f for f in findings if f.status in ("on", "off")]
    lines = ["Configuration and Clerk instance:", *map(render, checks)]
    if features:
        lines += ["", "What is on and off:", *map(render, features)]
    problems = sum(f.status == "problem" for f in findings)
    lines += ["", f"{problems} problem(s)." if problems else "No problems found."]
    return (1 if problems else 0), "\n".join(lines)


class CheckApp(JupyterApp):
    """Reads the server's configuration (jupyter_server_config and CLERK_* variables) and
    checks it against the Clerk instance: keys, JWKS, issuer, parties, Backend API, webhooks."""

    name = "jupyter-clerk-check"
    description = __doc__
    version = __version__
    # The same files the server reads, so the check sees what `jupyter server` will see.
    config_file_name = "jupyter_server_config"
    classes = CLASSES

    def start(self) -> None:
        status, text = report(asyncio.run(self.findings()))
        print(text)
        self.exit(status)

    async def findings(self) -> list[Finding]:
        provider = provider_or_finding(self.config)
        if isinstance(provider, Finding):
            return [provider]
        app = ClerkApp(config=self.config)
        return [
            *key_findings(provider),
            *issuer_findings(provider),
            await jwks_finding(provider),
            await backend_api_finding(provider),
            webhook_finding(app),
            *feature_findings(provider, app),
        ]


class ClerkCommand(JupyterApp):
    """jupyter-clerk: Clerk sign-in for Jupyter Server and JupyterLab."""

    name = "jupyter-clerk"
    description = __doc__
    version = __version__
    classes = CLASSES
    subcommands: dict[str, Any] = {  # noqa: RUF012  (traitlets reads a plain class dict)
        "check": (CheckApp, CheckApp.__doc__.splitlines()[0] if CheckApp.__doc__ else ""),
    }

    def start(self) -> None:
        if self.subapp is not None:
            self.subapp.start()
            return
        self.print_help()
        self.exit(2)


def main(argv: list[str] | None = None) -> None:
    ClerkCommand.launch_instance(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
