"""jupyter-clerk: Jupyter Server and JupyterLab behind Clerk sign-in."""

from __future__ import annotations

from typing import Any

from .app import ClerkApp
from .identity import ClerkIdentityProvider, ClerkUser

__version__ = "0.1.0"
__all__ = ["ClerkApp", "ClerkIdentityProvider", "ClerkUser", "__version__"]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    return [{"module": "jupyter_clerk", "app": ClerkApp}]
