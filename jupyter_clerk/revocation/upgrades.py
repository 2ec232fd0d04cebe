"""The window between a WebSocket's authentication and its upgrade, where revocations got lost.

A socket is tracked as soon as its upgrade request is authenticated, but Jupyter then
authorizes it and waits for its kernel (seconds for a fresh one) before tornado upgrades it.
A revocation in that window cannot close it (tornado's `close` does nothing before the
upgrade), and one during workspace resolution comes before it is tracked at all. So the
socket is checked again when the upgrade completes: tornado calls `open` right after writing
the 101, with nothing awaited in between. And an upgrade that does not complete leaves
nothing tracked.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from tornado.websocket import WebSocketClosedError, WebSocketHandler

from .open_sockets import CLOSE_CODE, OpenSockets


def guard_upgrade(
    handler: WebSocketHandler, sockets: OpenSockets, withdrawal: Callable[[], str | None]
) -> None:
    """Makes this tracked handler close at `open` when revocation reached it while it was
    upgrading, or `withdrawal()` (the denylist, for its owner) names a reason; and forgets it
    when its upgrade is refused or fails."""
    open_socket, finish = handler.open, handler.on_finish

    def on_finish() -> None:
        if handler.get_status() != 101:  # refused: no `open`, no `on_close` will follow
            sockets.forget(handler)
        finish()

    def open_unless_withdrawn(*args: Any, **kwargs: Any) -> Any:
        reason = sockets.closed_for(handler) or withdrawal()
        if reason is None:
            return open_socket(*args, **kwargs)
        sockets.forget(handler)
        handler.close(CLOSE_CODE, reason)
        return _open_closed(open_socket, *args, **kwargs)

    handler.on_finish = on_finish  # type: ignore[method-assign]  (this request's only)
    handler.open = open_unless_withdrawn  # type: ignore[method-assign]


async def _open_closed(open_socket: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Still runs the handler's own `open` on the closed socket: tornado calls its `on_close`
    next, which undoes what `open` did (a kernel's connection count) whether or not `open`
    ran. Nothing reaches the client: writes to a closed socket fail."""
    try:
        result = open_socket(*args, **kwargs)
        if inspect.isawaitable(result):
            await result
    except WebSocketClosedError:
        pass
