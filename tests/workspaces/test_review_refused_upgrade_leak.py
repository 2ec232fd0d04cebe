"""Review of issue 15: an upgrade refused after Jupyter's `pre_get` gives its admission place
back, but its handler stays registered for good.

Jupyter's `_register_session` (in the connection's `prepare`, run before tornado checks the
upgrade) files the handler under `kernel_id:session_id` in the class-level `_open_sessions`;
only `disconnect` removes it, and a refused upgrade never disconnects. `session_id` is the
caller's query parameter, so one person with any valid token grows the server's memory
without bound (a handler, its request and a kernel_info round trip each), and every such
handler is also tracked in `OpenSockets` (strongly held, the weak index never drops it):
the revalidator keeps polling, and counts as open, sockets that never existed.
"""

from __future__ import annotations

import asyncio
import gc
import uuid

from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from tornado.httpclient import AsyncHTTPClient

from tests.workspaces.test_kernel_websocket_limit import (
    HANG_GUARD,
    REFUSED_UPGRADES,
    TwoPerPersonFourInAll,
    start_kernels,
)

ATTEMPTS = 20


class TestRefusedUpgradesLeaveNothingBehind(TwoPerPersonFourInAll):
    async def test_refused_upgrades_leave_no_handler_registered_or_tracked(
        self, jp_serverapp, server_url, fetch, token_for
    ):
        """Fails today: 20 upgrades without a Sec-WebSocket-Key (426) leave 20 handlers in
        `_open_sessions` and 20 phantom sockets in `OpenSockets`."""
        token = token_for("user_2aMallory")
        (kernel,) = await start_kernels(fetch, token, 1)
        headers, code = REFUSED_UPGRADES["no Sec-WebSocket-Key"]
        async with asyncio.timeout(HANG_GUARD):
            for _ in range(ATTEMPTS):
                response = await AsyncHTTPClient().fetch(
                    f"{server_url}api/kernels/{kernel}/channels?session_id={uuid.uuid4().hex}",
                    headers={**headers, "Authorization": f"Bearer {token}"},
                    raise_error=False,
                )
                assert response.code == code
        gc.collect()
        registered = [
            key for key in ZMQChannelsWebsocketConnection._open_sessions if key.startswith(kernel)
        ]
        tracked = len(jp_serverapp.identity_provider.revocation.sockets)
        assert (len(registered), tracked) == (0, 0)
