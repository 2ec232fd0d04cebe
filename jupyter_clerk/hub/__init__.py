"""JupyterHub mode: Clerk sign-in at the Hub, one single-user server per (person, workspace).

Nothing else in the package imports this folder; it reuses the verifier, the Backend API
client, memberships, webhooks and the authorizer of the single-server mode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["ClerkAuthenticator"]

if TYPE_CHECKING:
    from .authenticator import ClerkAuthenticator


def __getattr__(name: str) -> object:
    # Lazy: single-user servers import hub.singleuser without needing JupyterHub's Hub parts.
    if name == "ClerkAuthenticator":
        from .authenticator import ClerkAuthenticator

        return ClerkAuthenticator
    raise AttributeError(name)
