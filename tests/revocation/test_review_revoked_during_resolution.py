"""Review of issue 15: a session revoked while its WebSocket upgrade waits on a membership
lookup keeps that socket until the next revalidation round (30 minutes with webhooks).

`get_user` checks the denylist in `_verify`, then awaits `resolve_workspace` (a Backend API
membership lookup for a workspace other than the token's organization), and only then tracks
the socket. A `session.revoked` webhook that lands during the lookup finds no socket to close;
nothing checks the denylist again, so the socket is tracked and opens for a revoked session.
"""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.client import connect

from tests.devinstance.helpers import ADA, ENGINES, PARTNERS
from tests.identity.test_websockets import run_cell
from tests.revocation.test_open_websockets import HANG_GUARD, channels, closed

MEMBERSHIPS = r"/v1/users/[^/]+/organization_memberships"


async def test_a_session_revoked_during_workspace_resolution_loses_its_socket(
    instance_sends_webhooks, jp_serverapp, server_url, fetch
):
    """Fails today: the socket opens after the webhook was acted on and runs code; it is only
    closed by a later round (websocket_revalidate_seconds × 6 with webhooks)."""
    instance = instance_sends_webhooks
    session = instance.create_session(ADA, ENGINES)  # the token's organization: Engines
    token = instance.session_token(session.id)
    headers = {"X-Clerk-Workspace": PARTNERS}  # another organization: a membership lookup
    response = await fetch("api/kernels", method="POST", body={}, token=token, headers=headers)
    assert response.code == 201, response.body
    kernel_id = json.loads(response.body)["id"]
    jp_serverapp.identity_provider.memberships.invalidate_user(ADA)  # as if it had expired
    instance.faults.delay(1.0, path=MEMBERSHIPS)
    url = channels(server_url, kernel_id, token) + f"&workspace={PARTNERS}"
    async with asyncio.timeout(HANG_GUARD):
        opening = asyncio.ensure_future(connect(url))
        await asyncio.sleep(0.3)  # the upgrade is waiting on the delayed lookup
        assert not opening.done()
        instance.revoke_session(session.id)
        await instance.webhooks.drain()
        ws = await opening
        try:
            try:
                result = await asyncio.wait_for(run_cell(ws, "6*7"), 10)
            except Exception:
                result = None
            assert result is None, "a revoked session's socket opened and ran code"
            assert await closed(ws) == 1008
        finally:
            await ws.close()
