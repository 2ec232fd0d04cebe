"""`/api/events/subscribe` per workspace: each person hears the events of their own workspace.

Jupyter Server broadcasts every event to every subscriber, which is why only server
administrators may have the whole stream. Everyone else gets a filtered stream: an event is
passed on only when the request that caused it ran in the subscriber's workspace (files), or
as the same person in it (kernels, and anything else). jupyter_events runs each listener in a
task created while the emitting request is handled, so the listener still sees that request's
`CallContext`. An event with no request behind it (culler, restarter) has no known workspace
and reaches no one but server administrators: filtering fails closed.
"""

from __future__ import annotations

from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.services.events.handlers import SubscribeWebsocket
from tornado import web
from tornado.web import Application

from .resolution import Owner, Workspace, WorkspaceRequired, current_owner

# Changes to files are a workspace's shared business; everything else stays with its person.
WORKSPACE_WIDE_SCHEMAS = frozenset(
    {"https://events.jupyter.org/jupyter_server/contents_service/v1"}
)


def _emitting_owner() -> Owner | None:
    try:
        return current_owner()
    except WorkspaceRequired:
        return None


def should_deliver(subscriber: Owner, schema_id: str) -> bool:
    """Whether the event being emitted (in the current context) is the subscriber's to see."""
    emitter = _emitting_owner()
    if emitter is None:
        return False
    if schema_id in WORKSPACE_WIDE_SCHEMAS:
        return emitter.workspace == subscriber.workspace
    return emitter == subscriber


class WorkspaceEventsSocket(SubscribeWebsocket):
    """The event stream of one person's workspace; the whole stream for server administrators."""

    _subscriber: Owner | None = None

    async def pre_get(self) -> None:
        user = self.current_user
        workspace = getattr(user, "workspace", None)
        if not isinstance(workspace, Workspace):
            raise web.HTTPError(403, "No workspace for this request.")
        if await ensure_async(self.authorizer.is_authorized(self, user, "execute", "events")):
            return  # a server administrator: every event, unfiltered
        if not await ensure_async(self.authorizer.is_authorized(self, user, "read", "events")):
            raise web.HTTPError(403, "You cannot watch this workspace's events.")
        self._subscriber = Owner(user.username, workspace.relative_dir)

    async def event_listener(self, logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        if self._subscriber is not None and not should_deliver(self._subscriber, schema_id):
            return
        await super().event_listener(logger, schema_id, data)


def route_workspace_events(web_app: Application) -> None:
    """Puts the per-workspace stream where Jupyter Server's broadcast was."""
    _replace_target(web_app.default_router, SubscribeWebsocket, WorkspaceEventsSocket)


def _replace_target(router: Any, old: type, new: type) -> None:
    for rule in getattr(router, "rules", []):
        if rule.target is old:
            rule.target = new
        elif hasattr(rule.target, "rules"):
            _replace_target(rule.target, old, new)
