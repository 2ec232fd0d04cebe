"""An upgrade refused after Jupyter's `pre_get` leaves nothing behind.

Jupyter's `_register_session` (in the connection's `prepare`, before tornado checks the
upgrade) files the handler under `kernel_id:session_id` in the class-level `_open_sessions`,
and only `disconnect` removes it; the identity provider tracks it in `OpenSockets` from
`get_user`. A refused upgrade never disconnects: `session_id` is the caller's query
parameter, so one person with any valid token could grow the server's memory without bound,
and the revalidator kept polling, and counting as open, sockets that never existed. Failed
before the fix with (20, 20) for 20 refusals; switching off either half (the unregistering in
workspaces/kernel_sockets.py, the forgetting in revocation/upgrades.py) fails it again.
"""

from __future__ import annotations

import asyncio
import gc
import uuid

import pytest
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from tornado.httpclient import AsyncHTTPClient

from tests.workspaces.test_kernel_websocket_limit import (
    HANG_GUARD,
    REFUSED_UPGRADES,
    TwoPerPersonFourInAll,
    credential,
    start_kernels,
)

ATTEMPTS = 5  # more than the person's limit of two


class TestRefusedUpgradesLeaveNothingBehind(TwoPerPersonFourInAll):
    @pytest.mark.parametrize("kind", REFUSED_UPGRADES)
    async def test_refused_upgrades_leave_no_handler_registered_or_tracked(
        self, jp_serverapp, server_url, fetch, token_for, kind
    ):
        token = token_for("user_2aMallory")
        (kernel,) = await start_kernels(fetch, token, 1)
        headers, code = REFUSED_UPGRADES[kind]
        async with asyncio.timeout(HANG_GUARD):
            for _ in range(ATTEMPTS):
                response = await AsyncHTTPClient().fetch(
                    f"{server_url}api/kernels/{kernel}/channels?session_id={uuid.uuid4().hex}",
                    headers={**headers, **credential(kind, token)},
                    raise_error=False,
                )
                assert response.code == code
        gc.collect()
        registered = [
            key for key in ZMQChannelsWebsocketConnection._open_sessions if key.startswith(kernel)
        ]
        tracked = len(jp_serverapp.identity_provider.revocation.sockets)
        assert (len(registered), tracked) == (0, 0)
