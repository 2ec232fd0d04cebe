"""Terminals whose shell runs in the same sandbox as kernels, in the terminal's workspace.

The sandbox trusts the `cwd` it is given: the workspace-scoped layer must pass the caller's
workspace directory (a `cwd` outside users/<id> or orgs/<id> is refused, as is none).
"""

from __future__ import annotations

from typing import Any

from jupyter_server_terminals.terminalmanager import TerminalManager
from terminado.management import PtyWithClients
from tornado import web
from traitlets import Instance, default

from .sandbox_policy import ClerkSandbox, SandboxError


class SandboxedTerminalManager(TerminalManager):
    """terminado's new_terminal, with the shell wrapped in bubblewrap and a clean environment."""

    policy = Instance(ClerkSandbox)

    @default("policy")
    def _default_policy(self) -> ClerkSandbox:
        return ClerkSandbox(parent=self)

    def new_terminal(self, **kwargs: Any) -> PtyWithClients:
        options = {**self.term_settings, "shell_command": self.shell_command, **kwargs}
        try:
            workspace, inside = self.policy.locate(
                options.get("cwd"), getattr(self.parent, "root_dir", None)
            )
        except SandboxError as error:
            raise web.HTTPError(403, str(error)) from error
        argv = self.policy.command(options["shell_command"], workspace=workspace, cwd=inside)
        env = self.policy.environment(self.make_term_env(**options))
        return PtyWithClients(argv, env, workspace)
