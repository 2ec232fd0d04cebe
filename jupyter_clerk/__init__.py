"""jupyter-clerk: Jupyter Server and JupyterLab behind Clerk sign-in."""

from __future__ import annotations

from typing import Any

from . import logscrub

# Before anything else of ours can log: the server logs its configuration at start-up.
logscrub.install()

from .app import ClerkApp  # noqa: E402
from .identity.provider import ClerkIdentityProvider, ClerkUser  # noqa: E402

__version__ = "0.1.0"
__all__ = ["ClerkApp", "ClerkIdentityProvider", "ClerkUser", "__version__"]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    return [{"module": "jupyter_clerk", "app": ClerkApp}]
