"""Two of Jupyter's server-wide endpoints, answered per workspace.

- `/api/resolvePath` asks the kernel's provisioner, which tests any path on the host for
  existence: another workspace's files (`../org_…/x`) and the server's own. Here a path is
  resolved only inside the caller's workspace, relative to the kernel's folder.
- `/metrics` shows counts for the whole server (kernels, requests) to anyone signed in, or
  to everyone: here it is for server administrators (c.ClerkAuthorizer.server_admins).
- `/api/status` tells when anyone last used the server: here the caller's own kernels (and
  connections) say it, except to server administrators, who keep the server-wide answer.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any

import prometheus_client
from jupyter_server._tz import isoformat, utcfromtimestamp
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import ensure_async
from tornado import web

from .kernels import require_kernel_id

KERNEL_NOT_FOUND = {"scope": "kernel", "reason": "Kernel could not be found."}


def _inside(base: str, path: str) -> str | None:
    """`path` relative to the API folder `base`, or None when it leaves the workspace."""
    if path.startswith(("/", "~")) or "\0" in path:
        return None
    joined = posixpath.normpath(posixpath.join(base, path))
    if joined == ".." or joined.startswith("../"):
        return None
    return "" if joined == "." else joined


class WorkspacePathResolverHandler(APIHandler):
    auth_resource = "api"
    _track_activity = False

    @web.authenticated
    @authorized
    async def get(self) -> None:
        path = self.get_query_argument("path")
        kernel_id = self.get_query_argument("kernel", default=None)
        contents = self.contents_manager
        resolved: list[dict[str, Any]] = []
        unresolved: list[dict[str, str]] = []
        found = await ensure_async(contents.resolve_path(path))
        if found is not None:
            resolved.append({"scope": "server", "path": found})
        if kernel_id:
            require_kernel_id(kernel_id)
            folder = self.kernel_manager.api_folder(kernel_id)
            if folder is None:
                unresolved.append(KERNEL_NOT_FOUND)
            else:
                relative = _inside(folder, path)
                if relative is not None:
                    found = await ensure_async(contents.resolve_path(relative))
                if relative is not None and found is not None:
                    resolved.append({"scope": "kernel", "path": found})
        answer: dict[str, Any] = {"resolved": resolved}
        if unresolved:
            answer["unresolved"] = unresolved
        self.finish(json.dumps(answer))


class ServerAdminMetricsHandler(APIHandler):
    auth_resource = "server"

    @web.authenticated
    @authorized
    def get(self) -> None:
        self.finish(
            prometheus_client.generate_latest(prometheus_client.REGISTRY),
            set_content_type=prometheus_client.CONTENT_TYPE_LATEST,
        )


class WorkspaceStatusHandler(APIHandler):
    auth_resource = "api"
    _track_activity = False

    @web.authenticated
    @authorized
    async def get(self) -> None:
        started = isoformat(self.settings.get("started", utcfromtimestamp(0)))
        kernels = await ensure_async(self.kernel_manager.list_kernels())  # the caller's own
        if self.authorizer.is_authorized(self, self.current_user, "read", "server"):
            last_activity = isoformat(self.application.last_activity())
        else:
            last_activity = max((k["last_activity"] for k in kernels), default=started)
        model = {
            "started": started,
            "last_activity": last_activity,
            "kernels": len(kernels),
            "connections": sum(k["connections"] for k in kernels),
        }
        self.finish(json.dumps(model, sort_keys=True))


ENDPOINTS = [
    (r"/api/status", WorkspaceStatusHandler),
    (r"/api/resolvePath", WorkspacePathResolverHandler),
    (r"/metrics", ServerAdminMetricsHandler),
]
