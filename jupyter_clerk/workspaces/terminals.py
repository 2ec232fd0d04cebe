"""Terminals owned by (person, workspace), started in the workspace, invisible to others.

Jupyter names terminals "1", "2", … across the whole server and lets a client choose a
name: the next number tells how many terminals others have open, and a chosen name answers
differently when someone else holds it. Names here are random, a client can name only its
own terminals (any other name gets a new terminal, whether taken or free), and someone
else's terminal answers exactly like a missing one. Only used when terminals are turned on
(c.ClerkApp.terminals).
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from jupyter_server_terminals.terminalmanager import TerminalManager
from tornado import web

from .kernel_env import scrub_environment
from .resolution import (
    Owner,
    current_owner,
    current_workspace,
    request_context_active,
    workspace_directory,
)


class WorkspaceTerminalManager(TerminalManager):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._owners: dict[str, Owner] = {}

    def create(self, **kwargs: Any) -> dict[str, Any]:
        owner = current_owner()
        workspace = str(workspace_directory(self.parent.root_dir, current_workspace()))
        # A requested cwd only chooses a folder inside the workspace, never outside it.
        requested = os.path.realpath(os.path.join(workspace, str(kwargs.get("cwd") or "")))
        inside = requested == workspace or requested.startswith(workspace + os.sep)
        kwargs["cwd"] = requested if inside and os.path.isdir(requested) else workspace
        chosen = kwargs.get("name")
        if (
            isinstance(chosen, str)
            and chosen in self.terminals
            and self._owners.get(chosen) == owner
        ):
            return self.get_terminal_model(chosen)
        name = self._next_available_name()
        kwargs["name"] = name
        self._owners[name] = owner  # before the start: Jupyter looks the terminal up midway
        try:
            return super().create(**kwargs)
        except BaseException:
            if name not in self.terminals:
                self._owners.pop(name, None)
            raise

    def _next_available_name(self) -> str:
        name = secrets.token_hex(8)
        while name in self.terminals:
            name = secrets.token_hex(8)
        return name

    def make_term_env(self, *args: Any, **kwargs: Any) -> dict[str, str]:
        return scrub_environment(super().make_term_env(*args, **kwargs), parent=self)

    def _check_terminal(self, name: str) -> None:
        super()._check_terminal(name)
        if request_context_active() and self._owners.get(name) != current_owner():
            raise web.HTTPError(404, f"Terminal not found: {name}")

    def require_access(self, name: str) -> None:
        """For the authorizer: the terminal of a URL must be the caller's."""
        self._check_terminal(name)

    def list(self) -> list[dict[str, Any]]:
        if not request_context_active():
            return super().list()
        caller = current_owner()
        return [
            self.get_terminal_model(name)
            for name in self.terminals
            if self._owners.get(name) == caller
        ]

    async def terminate(self, name: str, force: bool = False) -> None:
        await super().terminate(name, force=force)
        self._owners.pop(name, None)
