"""Jupyter's registry of open kernel WebSockets, kept free of upgrades that never happened.

The kernel connection's `prepare` (before tornado checks the upgrade) files its handler under
`kernel_id:session_id` in the class-level `_open_sessions`, and only `disconnect` removes it.
An upgrade refused after that (no Sec-WebSocket-Key, no Upgrade header, a foreign Origin, a
failed `prepare`) never disconnects, and the session id is the client's to choose: each such
request would stay registered for good. `disconnect` itself is no cure: it also counts down
a kernel connection that was never counted up.
"""

from __future__ import annotations

from tornado.websocket import WebSocketHandler


def unregister_unless_upgraded(handler: WebSocketHandler) -> None:
    """When this request finishes without the upgrade, removes its handler from the registry
    (a no-op for sockets other than kernels')."""
    finish = handler.on_finish

    def on_finish() -> None:
        if handler.get_status() != 101:
            connection = getattr(handler, "connection", None)
            registry = getattr(connection, "_open_sessions", None)
            key = getattr(connection, "session_key", None)
            if registry is not None and key is not None and registry.get(key) is handler:
                del registry[key]
        finish()

    handler.on_finish = on_finish  # type: ignore[method-assign]  (this request's only)
