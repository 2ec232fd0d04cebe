"""Notebook trust per workspace.

Jupyter signs trusted notebooks with one secret and remembers the signatures in one
database for the whole server, so a notebook signed in one workspace (its HTML and scripts
run on open) would be trusted in every other. Each workspace gets its own secret and its
own signature database, outside every workspace directory.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

from nbformat.sign import NotebookNotary

from ..cache import ExpiringLRU
from .resolution import current_workspace

# Open signature databases kept at once; a workspace seen again later reopens its own.
MAX_OPEN_NOTARIES = 256


class WorkspaceTrust:
    """For the contents manager: `notary` is the current workspace's own (refused outside a
    request, like every other workspace operation)."""

    @property
    def notary(self) -> NotebookNotary:
        workspace = current_workspace()
        notaries = self.__dict__.get("_clerk_notaries")
        if notaries is None:
            notaries = self.__dict__["_clerk_notaries"] = ExpiringLRU(
                MAX_OPEN_NOTARIES, time.monotonic
            )
            # Where Jupyter would keep its one database (c.NotebookNotary.data_dir applies).
            self.__dict__["_clerk_trust_root"] = Path(
                NotebookNotary(parent=self).data_dir, "jupyter-clerk-trust"
            )
        notary = notaries.get(workspace.relative_dir)
        if notary is None:
            directory = self.__dict__["_clerk_trust_root"] / workspace.relative_dir
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            notary = NotebookNotary(
                parent=self,
                data_dir=os.fspath(directory),
                db_file=os.fspath(directory / "nbsignatures.db"),
                secret_file=os.fspath(directory / "notebook_secret"),
            )
            notaries.put(workspace.relative_dir, notary, math.inf)
        return notary
