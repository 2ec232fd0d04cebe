"""A revocation while a WebSocket is still upgrading reaches it when the upgrade completes.

A socket is tracked once its upgrade request is authenticated, but Jupyter then resolves its
workspace (a Clerk membership lookup for an organization other than the token's), authorizes
it and waits for its kernel before tornado upgrades it. A revocation in that window used to be
lost: tornado's `close` does nothing before the upgrade, and one during the lookup came
before the socket was tracked. Both tests below failed before the check at `open`
(revocation/upgrades.py): the socket opened and answered for the revoked session.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from jupyter_clerk.workspaces.socket_limits import ADMISSION
from tests.devinstance.helpers import ADA, ENGINES, PARTNERS
from tests.identity.test_websockets import run_cell, ws_base
from tests.revocation.test_open_websockets import HANG_GUARD, channels, closed
from tests.workspaces.test_kernel_websocket_limit import (
    channels_url,
    kernel_info,
    start_kernels,
)

MEMBERSHIPS = r"/v1/users/[^/]+/organization_memberships"


@pytest.mark.parametrize(
    "subprotocols", [None, ["v1.kernel.websocket.jupyter.org"]], ids=["legacy", "v1"]
)
async def test_a_session_revoked_during_the_upgrade_does_not_keep_its_socket(
    clerk_instance, jp_serverapp, server_url, fetch, subprotocols
):
    """Revoked while Jupyter waits for the kernel's first kernel_info reply: the socket used
    to open, answer, and be tracked no more (so no later round or webhook closed it)."""
    session = clerk_instance.create_session(ADA, ENGINES)
    token = clerk_instance.session_token(session.id)
    (kernel,) = await start_kernels(fetch, token, 1)  # fresh: its first kernel_info is slow
    revocation = jp_serverapp.identity_provider.revocation
    admission = jp_serverapp.web_app.settings[ADMISSION]
    url = channels_url(server_url, kernel, token)
    async with asyncio.timeout(HANG_GUARD):
        opening = asyncio.ensure_future(connect(url, subprotocols=subprotocols))
        while not admission.admitted:  # authenticated, tracked, now in the kernel handshake
            assert not opening.done()
            await asyncio.sleep(0.001)
        assert not opening.done()
        # What the session.revoked webhook (and a round that finds it ended) does.
        assert revocation.session_ended(session.id, "revoked") == 1
        ws = await opening
        try:
            try:
                reply = await asyncio.wait_for(kernel_info(ws), 10)
            except (ConnectionClosed, TimeoutError):
                reply = None
            tracked = len(revocation.sockets)
            assert reply is None, f"revoked, yet it answers; sockets tracked: {tracked}"
            assert ws.close_code == 1008
            assert ws.close_reason == "Clerk session revoked"
        finally:
            await ws.close()
        # Jupyter's own bookkeeping stays even: the connection it counted at `open` is
        # counted off at `on_close`, and nothing is left registered or admitted (closing
        # without running the handler's `open` left the count at -1: checked).
        kernels = jp_serverapp.kernel_manager
        async with asyncio.timeout(HANG_GUARD):
            while kernels._kernel_connections[kernel] or admission.admitted:
                await asyncio.sleep(0.01)
        assert not [key for key in ZMQChannelsWebsocketConnection._open_sessions if kernel in key]


async def test_a_session_revoked_during_workspace_resolution_loses_its_socket(
    instance_sends_webhooks, jp_serverapp, server_url, fetch
):
    """The webhook lands while the upgrade waits on a membership lookup: the socket used to
    open and run code until a later round (websocket_revalidate_seconds × 6 with webhooks)."""
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


class TestEverySocketKind:
    """Tracking covers every WebSocket, so the check at `open` does too, not only kernels'."""

    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        clerk = {**jp_server_config["ClerkApp"], "terminals": True}
        return {**jp_server_config, "ClerkApp": clerk}

    @pytest.mark.parametrize("kind", ["events", "terminal"])
    async def test_a_socket_whose_session_is_revoked_during_resolution_closes_at_open(
        self, instance_sends_webhooks, jp_serverapp, server_url, fetch, kind
    ):
        """Checked with the check at `open` switched off (`guard_upgrade` not called): both
        opened, the terminal sending its setup message, and stayed open."""
        instance = instance_sends_webhooks
        # Ada may open terminals in Engines (admin); her token is for Partners, so the
        # socket's workspace costs a membership lookup.
        session = instance.create_session(ADA, PARTNERS)
        token = instance.session_token(session.id)
        if kind == "events":
            path = "api/events/subscribe"
        else:
            headers = {"X-Clerk-Workspace": ENGINES}
            response = await fetch(
                "api/terminals", method="POST", body={}, token=token, headers=headers
            )
            assert response.code == 200, response.body
            path = f"terminals/websocket/{json.loads(response.body)['name']}"
        jp_serverapp.identity_provider.memberships.invalidate_user(ADA)
        instance.faults.delay(1.0, path=MEMBERSHIPS)
        url = f"{ws_base(server_url)}{path}?token={token}&workspace={ENGINES}"
        async with asyncio.timeout(HANG_GUARD):
            opening = asyncio.ensure_future(connect(url))
            await asyncio.sleep(0.3)  # waiting on the delayed lookup
            assert not opening.done()
            instance.revoke_session(session.id)
            await instance.webhooks.drain()
            async with await opening as ws:
                assert await closed(ws) == 1008
                assert ws.close_reason == "Clerk session ended"
        assert len(jp_serverapp.identity_provider.revocation.sockets) == 0
