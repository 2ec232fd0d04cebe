"""Server extensions that assume one server root for everyone: refused at start-up.

In one server for many workspaces, an extension that keeps its own index of files, runs
tools as the server on workspace files, serves files from the root it saw at start-up, or
reports on the whole server, crosses workspaces however well the API is guarded. Each one
below was read (sources of the versions named in the README) and found to do so; none can
be made workspace-aware from outside. The server refuses to start while one is enabled and
says how to turn it off. In JupyterHub mode (one server per workspace) they work as usual.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import ClerkConfigError

COLLABORATION = (
    "real-time collaboration keeps one file-id database and one set of rooms for the whole "
    "server: equal paths in two workspaces share a room, each side's autosave writes the "
    "other's content, and its background loaders work in whichever workspace created them"
)

REFUSED_EXTENSIONS: Mapping[str, str] = {
    "jupyter_server_ydoc": COLLABORATION,
    "jupyter_collaboration": COLLABORATION,  # the server extension's name before version 3
    "jupyter_server_fileid": "one file-id database for the whole server: its endpoints map "
    "ids and paths of every workspace",
    "jupyterlab_git": "runs git as the server, outside the sandbox, on repositories a "
    "workspace controls (hooks and configuration run as the server)",
    "nbdime": "reads the files it diffs relative to the server's own directory, not the "
    "workspace, and runs git as the server",
    "jupyter_resource_usage": "reports memory and CPU of the whole server and every kernel",
    "jupyter_archive": "packs and unpacks archives with its own path handling, following "
    "links and writing where an archive says",
    "voila": "renders and runs notebooks from the server root it saw at start-up",
    "jupyter_server_proxy": "forwards requests to any port of the server's loopback, where "
    "other workspaces' kernels and services listen",
}


def refuse_shared_root_extensions(enabled: Mapping[str, bool]) -> None:
    """Stop the server when an extension that would cross workspaces is enabled (by its
    package name or one of its modules, e.g. `voila.server_extension`)."""
    refused = sorted(
        name for name, on in enabled.items() if on and name.split(".")[0] in REFUSED_EXTENSIONS
    )
    if not refused:
        return
    reasons = "\n".join(
        f"  - {name}: {REFUSED_EXTENSIONS[name.split('.')[0]]}." for name in refused
    )
    commands = "\n".join(
        f"  jupyter server extension disable --sys-prefix {name}" for name in refused
    )
    raise ClerkConfigError(
        "jupyter-clerk serves many workspaces from one server, and these server extensions "
        f"would cross between them:\n{reasons}\nTurn them off (or uninstall them):\n"
        f"{commands}\nor set c.ServerApp.jpserver_extensions = {{{refused[0]!r}: False, …}}. "
        "To use them, run one server per workspace (JupyterHub mode)."
    )
