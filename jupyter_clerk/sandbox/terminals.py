"""Terminals whose shell runs in the same sandbox as kernels, in the terminal's workspace.

The sandbox trusts the `cwd` it is given, so it sits on the workspace-scoped manager, which
always passes a folder of the caller's own workspace (and keeps terminals owner-only).
"""

from __future__ import annotations

from typing import Any

from terminado.management import PtyWithClients
from tornado import web
from traitlets import Instance, default

from ..workspaces.terminals import WorkspaceTerminalManager
from .policy import ClerkSandbox, SandboxError


class SandboxedTerminalManager(WorkspaceTerminalManager):
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
        self.policy.share(workspace)
        argv = self.policy.command(options["shell_command"], workspace=workspace, cwd=inside)
        env = self.policy.environment(self.make_term_env(**options))
        return PtyWithClients(argv, env, workspace)
