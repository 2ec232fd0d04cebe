"""The server extension: puts the whole server behind Clerk with one switch."""

from __future__ import annotations

from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool

from .identity import ClerkIdentityProvider


class ClerkApp(ExtensionApp):
    """jupyter-clerk: Clerk sign-in for Jupyter Server and JupyterLab."""

    name = "jupyter_clerk"
    load_other_extensions = True

    configure_server = Bool(
        True,
        help="Make Clerk the server's identity provider and require authentication everywhere. "
        "Turn off only to wire c.ServerApp.identity_provider_class yourself.",
    ).tag(config=True)

    def _link_jupyter_server_extension(self, serverapp: Any) -> None:
        # Linking runs before the server builds its identity provider: the only moment at
        # which the provider class can still be chosen.
        super()._link_jupyter_server_extension(serverapp)
        if not self.configure_server:
            return
        if not issubclass(serverapp.identity_provider_class, ClerkIdentityProvider):
            serverapp.identity_provider_class = ClerkIdentityProvider
        serverapp.allow_unauthenticated_access = False
        # A security extension that fails to load must stop the server, not be skipped.
        serverapp.reraise_server_extension_failures = True
