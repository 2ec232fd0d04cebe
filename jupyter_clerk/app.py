"""The server extension: puts the whole server behind Clerk with one switch."""

from __future__ import annotations

import gc
import importlib.util
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Unicode, default

from .errors import ClerkConfigError
from .identity.provider import ClerkIdentityProvider
from .pages.browser_config import browser_config, page_config_hook
from .pages.profile import UserProfileHandler
from .pages.socket_ticket import SocketTicketHandler
from .revocation.webhooks import ClerkWebhookHandler, WebhookVerifier
from .sandbox.setup import enable_sandbox
from .settings_env import env_flag, env_str
from .workspaces.authorizer import ClerkAuthorizer
from .workspaces.contents import WorkspaceContentsManager
from .workspaces.events import route_workspace_events
from .workspaces.extensions import refuse_shared_root_extensions
from .workspaces.handlers import WorkspacesHandler
from .workspaces.kernels import WorkspaceKernelManager, WorkspaceSessionManager
from .workspaces.server_endpoints import ENDPOINTS
from .workspaces.socket_limits import (
    ADMISSION,
    KERNEL_CHANNELS,
    ClerkSocketLimits,
    WebSocketAdmission,
)
from .workspaces.terminals import WorkspaceTerminalManager


class ClerkApp(ExtensionApp):
    """jupyter-clerk: Clerk sign-in for Jupyter Server and JupyterLab."""

    name = "jupyter_clerk"
    load_other_extensions = True

    configure_server = Bool(
        True,
        help="Make Clerk the server's identity provider and require authentication everywhere. "
        "Turn off only to wire c.ServerApp.identity_provider_class yourself.",
    ).tag(config=True)

    terminals = Bool(
        False,
        help="Offer terminals (to the roles in c.ClerkAuthorizer.terminal_roles). Off by default: "
        "a terminal is a shell on the server.",
    ).tag(config=True)

    sandbox_kernels = Bool(
        help="Run every kernel and terminal in a bubblewrap sandbox that sees only its "
        "workspace (settings: c.ClerkSandbox.…). The server refuses to start if bubblewrap "
        "cannot run. Env: CLERK_SANDBOX_KERNELS=1.",
    ).tag(config=True)

    webhook_signing_secret = Unicode(
        help="Signing secret (whsec_…) of a Clerk webhook endpoint pointed at "
        "<server>/clerk/webhooks; without it the endpoint does not exist. Revoked sessions, "
        "deleted users and membership changes then close open WebSockets at once. "
        "Env: CLERK_WEBHOOK_SIGNING_SECRET.",
    ).tag(config=True)

    @default("webhook_signing_secret")
    def _default_webhook_signing_secret(self) -> str:
        return env_str("CLERK_WEBHOOK_SIGNING_SECRET")

    @default("sandbox_kernels")
    def _default_sandbox_kernels(self) -> bool:
        return env_flag("CLERK_SANDBOX_KERNELS", False)

    def _link_jupyter_server_extension(self, serverapp: Any) -> None:
        # Linking runs before the server builds its identity provider: the only moment at
        # which the provider class can still be chosen.
        super()._link_jupyter_server_extension(serverapp)
        # Extensions that assume one server root would cross workspaces: refuse to start.
        serverapp.reraise_server_extension_failures = True
        refuse_shared_root_extensions(serverapp.jpserver_extensions)
        if self.sandbox_kernels:
            # Failing to sandbox must stop the server; a warning would leave kernels unconfined.
            serverapp.reraise_server_extension_failures = True
            enable_sandbox(serverapp)
        if not self.configure_server:
            return
        if not issubclass(serverapp.identity_provider_class, ClerkIdentityProvider):
            serverapp.identity_provider_class = ClerkIdentityProvider
        serverapp.allow_unauthenticated_access = False
        serverapp.authorizer_class = ClerkAuthorizer
        serverapp.terminals_enabled = self.terminals
        # Language servers run as the server with the server root as their root, outside any
        # workspace: none is started unless configured on purpose.
        language_servers = serverapp.config.LanguageServerManager
        if "autodetect" not in language_servers:
            language_servers.autodetect = False
        # The default extension manager runs pip as the server for whoever asks.
        lab = serverapp.config.LabApp
        if "extension_manager" not in lab:
            lab.extension_manager = "readonly"
        # jupyter_server_terminals links after us (name order) and reads its class from config.
        terminals = serverapp.config.TerminalsExtensionApp
        if "terminal_manager_class" not in terminals:
            terminals.terminal_manager_class = WorkspaceTerminalManager
        serverapp.contents_manager_class = WorkspaceContentsManager
        serverapp.kernel_manager_class = WorkspaceKernelManager
        serverapp.session_manager_class = WorkspaceSessionManager
        # A security extension that fails to load must stop the server, not be skipped.
        serverapp.reraise_server_extension_failures = True

    def initialize_handlers(self) -> None:
        # JupyterLab is optional (the `lab` extra): its handlers are only there to fix when
        # it is installed, and importing them without it would stop `jupyter server`.
        if self.configure_server:
            route_workspace_events(self.serverapp.web_app)
        if self.configure_server and importlib.util.find_spec("jupyterlab") is not None:
            from .pages.lab import route_lab_handlers

            route_lab_handlers(self.serverapp.web_app, self.serverapp.root_dir)
        if self.configure_server:
            # Ahead of Jupyter's own handlers for the same paths, which answer server-wide.
            self.handlers.extend(ENDPOINTS)
        if self.configure_server or isinstance(
            self.serverapp.identity_provider, ClerkIdentityProvider
        ):
            # Wherever our provider admits WebSockets: a client gone mid-upgrade gets a clean end.
            self.handlers.append(KERNEL_CHANNELS)
        self.handlers.append((r"/clerk/api/user", UserProfileHandler))
        self.handlers.append((r"/clerk/api/socket-ticket", SocketTicketHandler))
        self.handlers.append((r"/clerk/api/workspaces", WorkspacesHandler))
        if self.webhook_signing_secret:
            try:
                verifier = WebhookVerifier(self.webhook_signing_secret)
            except ValueError as exc:
                raise ClerkConfigError(
                    f"c.ClerkApp.webhook_signing_secret (CLERK_WEBHOOK_SIGNING_SECRET): {exc}"
                ) from None
            self.handlers.append((r"/clerk/webhooks", ClerkWebhookHandler, {"verifier": verifier}))

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        """Once the server runs (never in a test's in-process server), its start-up objects
        (modules, classes, settings: some 200 000) are frozen out of garbage collection. Each
        full collection scanned them all and held the event loop for about 0.1 s, for every
        open request and notebook; now it scans only what was made since."""
        if self.configure_server:
            gc.collect()
            gc.freeze()

    async def stop_extension(self) -> None:
        revalidator = getattr(self.serverapp.identity_provider, "revalidator", None)
        if revalidator is not None:
            revalidator.stop()

    def initialize_settings(self) -> None:
        # JupyterLab's page config carries what the front end needs to get Clerk tokens.
        self._raise_socket_limits()
        provider = self.serverapp.identity_provider
        if self.webhook_signing_secret and isinstance(provider, ClerkIdentityProvider):
            # Webhooks report revocations and membership changes at once: poll less.
            backoff = provider.websocket_revalidate_backoff_with_webhooks
            for polled in (provider.revalidator, provider.memberships):
                if polled is not None:
                    polled.webhooks_configured(backoff)
        if isinstance(provider, ClerkIdentityProvider):
            settings = self.serverapp.web_app.settings
            settings["page_config_hook"] = page_config_hook(
                browser_config(provider), settings.get("page_config_hook")
            )

    def _raise_socket_limits(self) -> None:
        # Before the first kernel: the ZMQ context only takes a new limit before its first socket.
        limits = ClerkSocketLimits(parent=self.serverapp)
        allowed = limits.raise_open_files()
        context = getattr(self.serverapp.kernel_manager, "context", None)
        limit = None
        if limits.max_kernel_websockets != 0:
            limit = limits.raise_zmq_sockets(context, allowed)
        per_person = limits.max_kernel_websockets_per_person or None
        self.serverapp.web_app.settings[ADMISSION] = WebSocketAdmission(limit, per_person)
