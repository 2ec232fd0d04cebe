"""Review of issue 15: a session revoked while one of its kernel WebSockets is being upgraded
keeps that socket open, and the socket is then invisible to revocation for good.

`ClerkIdentityProvider._track_websocket` tracks the handler in `OpenSockets` from `get_user`,
before Jupyter's `pre_get` (authorization, the connection's `prepare`: waiting for the kernel
to be ready and for its kernel_info reply, seconds for a fresh kernel). A revocation in that
window (a webhook, or a revalidation round) pops the handler from the index and calls
`handler.close()`, which tornado ignores before the upgrade (`ws_connection` is None). The
upgrade then completes: the revoked session has an open kernel socket that no later webhook
or round can find, since it is no longer tracked.
"""

from __future__ import annotations

import asyncio

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from jupyter_clerk.workspaces.socket_limits import ADMISSION
from tests.workspaces.test_kernel_websocket_limit import (
    HANG_GUARD,
    channels_url,
    kernel_info,
    start_kernels,
)

USER, SESSION = "user_2aMallory", "sess_2aMallory"


async def test_a_session_revoked_during_the_upgrade_does_not_keep_its_socket(
    jp_serverapp, server_url, fetch, token_for
):
    """Fails today: the socket opens after the revocation, answers kernel_info, and is no
    longer tracked (len(OpenSockets) == 0), so no later round or webhook closes it."""
    token = token_for(USER, sid=SESSION)
    (kernel,) = await start_kernels(fetch, token, 1)  # fresh: its first kernel_info is slow
    revocation = jp_serverapp.identity_provider.revocation
    admission = jp_serverapp.web_app.settings[ADMISSION]
    async with asyncio.timeout(HANG_GUARD):
        opening = asyncio.ensure_future(connect(channels_url(server_url, kernel, token)))
        while not admission.admitted:  # authenticated, tracked, now in the kernel handshake
            assert not opening.done()
            await asyncio.sleep(0.001)
        assert not opening.done()
        # What the session.revoked webhook (and a round that finds it ended) does.
        assert revocation.session_ended(SESSION, "revoked") == 1
        ws = await opening
        try:
            try:
                reply = await asyncio.wait_for(kernel_info(ws), 10)
            except (ConnectionClosed, TimeoutError):
                reply = None
            tracked = len(revocation.sockets)
            assert reply is None, f"revoked, yet it answers; sockets tracked: {tracked}"
        finally:
            await ws.close()
