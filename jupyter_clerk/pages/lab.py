"""JupyterLab's own API handlers, made fit for a server many people share.

JupyterLab's handlers only check that someone is signed in; the authorizer is never asked.
- Layouts and user settings are stored once for the whole server, so one person's layout
  (open files, their paths) and settings would be everyone's: each request is pointed at the
  signed-in person's own directory instead.
- The extension manager, plugin manager and build endpoints change the environment every
  user runs in (the extension manager runs pip as the server): changes are for server
  administrators only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyterlab.handlers.build_handler import BuildHandler
from jupyterlab.handlers.extension_manager_handler import ExtensionHandler
from jupyterlab.handlers.plugin_manager_handler import PluginHandler
from jupyterlab_server.settings_handler import SettingsHandler
from jupyterlab_server.workspaces_handler import WorkspacesHandler, WorkspacesManager
from tornado import web
from tornado.web import Application

from ..auth.claims import USER_ID, valid_id

STATE_DIR = ".jupyter-clerk"
# The real server root; "server_root_dir" holds what start-up saw, which is no workspace.
ROOT_SETTING = "jupyter_clerk_server_root"


def person_directory(server_root: str, user_id: str, kind: str) -> Path:
    """`<root>/.jupyter-clerk/lab/<user_id>/<kind>`: outside every workspace, owner-only."""
    if not valid_id(USER_ID, user_id):
        raise ValueError("not a user id")
    directory = Path(server_root) / STATE_DIR / "lab" / user_id / kind
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


class PersonWorkspacesHandler(WorkspacesHandler):
    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        user = self.current_user
        if user is not None:
            root = self.settings[ROOT_SETTING]
            self.manager = WorkspacesManager(str(person_directory(root, user.username, "layouts")))


class PersonSettingsHandler(SettingsHandler):
    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        user = self.current_user
        if user is not None:
            root = self.settings[ROOT_SETTING]
            self.settings_dir = str(person_directory(root, user.username, "settings"))


class ServerAdminChanges:
    """Reading is for everyone signed in; changing, for the server's administrators."""

    async def prepare(self) -> None:
        await super().prepare()  # type: ignore[misc]
        if self.request.method in ("GET", "HEAD", "OPTIONS") or self.current_user is None:
            return
        if not self.authorizer.is_authorized(self, self.current_user, "write", "server"):
            raise web.HTTPError(403, "Only the server's administrators may change this.")


class AdminExtensionHandler(ServerAdminChanges, ExtensionHandler):
    pass


class AdminPluginHandler(ServerAdminChanges, PluginHandler):
    pass


class AdminBuildHandler(ServerAdminChanges, BuildHandler):
    pass


_REPLACEMENTS: dict[type, type] = {
    WorkspacesHandler: PersonWorkspacesHandler,
    SettingsHandler: PersonSettingsHandler,
    ExtensionHandler: AdminExtensionHandler,
    PluginHandler: AdminPluginHandler,
    BuildHandler: AdminBuildHandler,
}


def route_lab_handlers(web_app: Application, server_root: str) -> None:
    """Swaps JupyterLab's handlers for the ones above, now and in every later rule.

    Extensions load in name order, so JupyterLab adds its handlers after this one: adding
    rules goes through the swap from here on, before the server takes any request.
    """
    web_app.settings[ROOT_SETTING] = server_root
    _swap_rules(web_app.default_router)
    add_handlers = web_app.add_handlers

    def add_handlers_per_person(host_pattern: str, host_handlers: list[Any]) -> None:
        add_handlers(host_pattern, [_swap_spec(spec) for spec in host_handlers])

    web_app.add_handlers = add_handlers_per_person  # type: ignore[method-assign]


def _swap_spec(spec: Any) -> Any:
    if isinstance(spec, tuple) and len(spec) >= 2 and spec[1] in _REPLACEMENTS:
        return (spec[0], _REPLACEMENTS[spec[1]], *spec[2:])
    return spec


def _swap_rules(router: Any) -> None:
    for rule in getattr(router, "rules", []):
        if isinstance(rule.target, type) and rule.target in _REPLACEMENTS:
            rule.target = _REPLACEMENTS[rule.target]
        elif hasattr(rule.target, "rules"):
            _swap_rules(rule.target)
