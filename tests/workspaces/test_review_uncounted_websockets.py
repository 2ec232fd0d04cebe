"""Review of issue 15: only kernel WebSockets are counted; a person's other WebSockets are not.

`BoundedKernelConnection` admits kernel sockets within the server's and the person's limits,
and the open-file limit is sized from those. `/api/events/subscribe` (and terminal sockets)
go through no admission at all: one person holding thousands of them uses up the very file
descriptors the kernel sockets' limit was sized for (other people's kernel sockets then fail
with "Too many open files", a 500, instead of a clean 503), and every event anyone emits runs
one listener per such socket on the event loop.
"""

from __future__ import annotations

import asyncio

from websockets.asyncio.client import connect

from tests.identity.test_websockets import ws_base
from tests.workspaces.test_kernel_websocket_limit import HANG_GUARD, TwoPerPersonFourInAll

MANY = 12  # three times the server's whole limit of 4, six times the person's 2


class TestEventSocketsCount(TwoPerPersonFourInAll):
    async def test_one_person_cannot_hold_more_sockets_than_the_servers_limit(
        self, server_url, token_for
    ):
        """Fails today: all 12 events sockets of one person open (a kernel socket past their
        2nd would get 429)."""
        token = token_for("user_2aMallory")
        url = f"{ws_base(server_url)}api/events/subscribe?token={token}"
        held = []
        async with asyncio.timeout(HANG_GUARD):
            try:
                for _ in range(MANY):
                    try:
                        held.append(await connect(url))
                    except Exception:  # refused: what a limit would do
                        break
                assert len(held) <= 4, f"one person holds {len(held)} uncounted sockets"
            finally:
                await asyncio.gather(*(ws.close() for ws in held))
