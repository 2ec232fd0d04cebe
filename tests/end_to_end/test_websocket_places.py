"""Every WebSocket holds a place of the person's limit, through sign-in as `make demo` does it:
terminals count, and a connection dropped while the upgrade is still being authenticated
(waiting on Clerk) holds no place once the request ends."""

from __future__ import annotations

import asyncio
from urllib.parse import urlparse

import pytest
from websockets.asyncio.client import connect

from jupyter_clerk.workspaces.socket_limits import ADMISSION
from tests.devinstance.helpers import ADA, ENGINES, PARTNERS
from tests.identity.test_websockets import ws_base
from tests.workspaces.test_every_websocket_counts import events_url, refusal
from tests.workspaces.test_kernel_websocket_limit import HANG_GUARD

MEMBERSHIPS = r"/v1/users/[^/]+/organization_memberships"
TWO_PER_PERSON = {"max_kernel_websockets": 4, "max_kernel_websockets_per_person": 2}


class TestTerminalSockets:
    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        return {
            **jp_server_config,
            "ClerkApp": {"terminals": True},
            "ClerkSocketLimits": TWO_PER_PERSON,
        }

    async def test_terminal_sockets_count_against_the_persons_limit(
        self, jp_serverapp, tab, server_url
    ):
        ada = tab(ADA, ENGINES)
        name = (await ada.post("api/terminals"))[1]["name"]
        terminal = f"{ws_base(server_url)}terminals/websocket/{name}?token={ada.token}"
        admission = jp_serverapp.web_app.settings[ADMISSION]
        async with asyncio.timeout(HANG_GUARD):
            async with connect(terminal), connect(events_url(server_url, ada.token)):
                assert admission.held_by(ADA) == 2
                status, _, body = await refusal(terminal)
                assert (status, body["reason"]) == (429, "too-many-websockets-for-person")
            while admission.admitted:
                await asyncio.sleep(0.05)


class TestDroppedDuringAuthentication:
    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        return {**jp_server_config, "ClerkSocketLimits": TWO_PER_PERSON}

    async def test_a_connection_dropped_before_admission_holds_no_place(
        self, jp_serverapp, clerk_instance, tab, server_url
    ):
        """tornado reports the drop (`on_close`) while the upgrade waits on a membership
        lookup, before its admission: nothing would give a place taken after that back.
        Checked against the code without the closed-connection check: each dropped upgrade
        kept a place, and Ada's second socket got 429."""
        ada = tab(ADA, ENGINES)
        provider = jp_serverapp.identity_provider
        admission = jp_serverapp.web_app.settings[ADMISSION]
        url = urlparse(server_url)
        request = (
            f"GET {url.path}api/events/subscribe?token={ada.token}&workspace={PARTNERS} "
            f"HTTP/1.1\r\nHost: {url.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        async with asyncio.timeout(HANG_GUARD):
            for _ in range(2):  # as many as the person's limit
                provider.memberships.invalidate_user(ADA)
                lookups = clerk_instance.faults.calls_to(MEMBERSHIPS)
                clerk_instance.faults.delay(0.5, path=MEMBERSHIPS)
                _, writer = await asyncio.open_connection(url.hostname, url.port)
                writer.write(request)
                await writer.drain()
                while clerk_instance.faults.calls_to(MEMBERSHIPS) == lookups:
                    await asyncio.sleep(0.01)  # the upgrade now waits on the slow lookup
                writer.transport.abort()
                while provider.memberships.fresh(ADA) is None:
                    await asyncio.sleep(0.01)
                await asyncio.sleep(0.2)  # the rest of the request: no more waiting on Clerk
                assert admission.held_by(ADA) == 0
            async with (
                connect(events_url(server_url, ada.token)),
                connect(events_url(server_url, ada.token)),
            ):
                assert admission.held_by(ADA) == 2
