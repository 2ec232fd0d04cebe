"""Turning the sandbox on for a server: checked, then wired in before any manager exists."""

from __future__ import annotations

from typing import Any

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_server_terminals.terminalmanager import TerminalManager
from traitlets.utils.importstring import import_item

from ..errors import ClerkConfigError
from .policy import ClerkSandbox
from .specs import SandboxKernelSpecManager
from .terminals import SandboxedTerminalManager


def _as_class(value: str | type) -> type:
    return import_item(value) if isinstance(value, str) else value


def enable_sandbox(serverapp: Any) -> None:
    """Run in the link phase: managers are built afterwards from these classes.

    Fails the start (ClerkConfigError) when bubblewrap cannot run here, or when the server
    root or runtime directory would be visible inside every sandbox, or when workspaces
    cannot be shared with the sandbox's uid.
    """
    policy = ClerkSandbox(parent=serverapp)
    policy.check([serverapp.root_dir, serverapp.runtime_dir])
    policy.check_sharing(serverapp.root_dir)
    specs: type = KernelSpecManager
    if serverapp.trait_has_value("kernel_spec_manager_class"):  # its default needs the gateway
        specs = _as_class(serverapp.kernel_spec_manager_class)  # settings, not built yet
    if specs is KernelSpecManager:
        serverapp.kernel_spec_manager_class = SandboxKernelSpecManager
    elif not issubclass(specs, SandboxKernelSpecManager):
        raise ClerkConfigError(
            f"c.ServerApp.kernel_spec_manager_class = {specs.__name__} would start kernels "
            "outside the sandbox: make it a subclass of "
            "jupyter_clerk.sandbox.specs.SandboxKernelSpecManager."
        )
    # jupyter_server_terminals links after jupyter_clerk (extensions link in name order)
    # and takes its manager class from the server's config.
    terminals = serverapp.config.TerminalsExtensionApp
    chosen = _as_class(terminals.get("terminal_manager_class", TerminalManager))
    if chosen is TerminalManager:
        terminals.terminal_manager_class = SandboxedTerminalManager
    elif not issubclass(chosen, SandboxedTerminalManager):
        raise ClerkConfigError(
            f"c.TerminalsExtensionApp.terminal_manager_class = {chosen.__name__} would start "
            "shells outside the sandbox: make it a subclass of "
            "jupyter_clerk.sandbox.terminals.SandboxedTerminalManager."
        )
