"""A kernel WebSocket whose client goes away before its upgrade completes gives its place back,
whenever it goes: while the server asks Clerk about the person's membership (before the place
is taken), while the kernel is asked for its info (after), or right after the 101.

Real sockets dropped at chosen moments: each moment is waited for (the membership lookup
reaching the local instance, the place being taken, the 101 read), never guessed with a sleep.
"""

from __future__ import annotations

import asyncio
import json
import logging
from urllib.parse import urlparse

import pytest
from websockets.asyncio.client import connect

from jupyter_clerk.workspaces.socket_limits import ADMISSION
from tests.devinstance.helpers import ADA, ENGINES, PARTNERS
from tests.end_to_end.conftest import (  # noqa: F401  (fixtures: the local instance's config)
    clerk_allowed_origins,
    clerk_config,
    jupyter_origin,
)
from tests.workspaces.test_kernel_websocket_limit import (
    HANG_GUARD,
    TwoPerPersonFourInAll,
    channels_url,
    kernel_info,
)

MEMBERSHIPS = r"/v1/users/[^/]+/organization_memberships"
ATTEMPTS = 3  # more than the person's limit of 2


class Attack:
    """Ada, signed in to Analytical Engines, opening a kernel of hers in Difference Partners:
    the WebSocket names that workspace, so its upgrade waits on a membership lookup."""

    def __init__(self, jp_serverapp, server_url: str, clerk_instance, caplog) -> None:
        self.server = jp_serverapp
        self.server_url = server_url
        self.instance = clerk_instance
        self.caplog = caplog
        self.admission = jp_serverapp.web_app.settings[ADMISSION]
        self.token = clerk_instance.session_token(clerk_instance.create_session(ADA, ENGINES).id)
        self.kernel = ""

    async def start_kernel(self, fetch) -> None:
        response = await fetch(
            "api/kernels",
            method="POST",
            token=self.token,
            body={},
            headers={"X-Clerk-Workspace": PARTNERS},
        )
        assert response.code == 201, response.body
        self.kernel = json.loads(response.body)["id"]

    async def send_upgrade(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        url = urlparse(self.server_url)
        request = (
            f"GET {url.path}api/kernels/{self.kernel}/channels?workspace={PARTNERS} HTTP/1.1\r\n"
            f"Host: {url.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {self.token}\r\n\r\n"
        ).encode()
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        writer.write(request)
        await writer.drain()
        return reader, writer

    def lookups(self) -> int:
        """Membership lookups the local instance has received."""
        return self.instance.faults.calls_to(MEMBERSHIPS)

    def upgrades_answered(self) -> list[logging.LogRecord]:
        """The server's log line of each upgrade it answered (101 or a refusal)."""
        path = f"/api/kernels/{self.kernel}/channels"
        return [
            r for r in self.caplog.records if path in r.getMessage() and "GET" in r.getMessage()
        ]

    async def until(self, condition) -> None:
        while not condition():
            await asyncio.sleep(0.01)

    async def a_real_socket_still_opens(self) -> None:
        url = channels_url(self.server_url, self.kernel, self.token) + f"&workspace={PARTNERS}"
        async with connect(url) as ws:
            assert (await kernel_info(ws))["status"] == "ok"
            assert (self.admission.held_by(ADA), len(self.admission.admitted)) == (1, 1)
        await self.until(lambda: not self.admission.admitted)


async def running(client, msg_id: str) -> None:
    """Until the kernel has begun the cell (an interrupt before would end the kernel)."""
    while True:
        message = await client.get_iopub_msg()
        parent = message["parent_header"].get("msg_id")
        if parent == msg_id and message["msg_type"] == "execute_input":
            return


@pytest.fixture
def attack(jp_serverapp, server_url, clerk_instance, caplog) -> Attack:
    caplog.set_level(logging.DEBUG)
    return Attack(jp_serverapp, server_url, clerk_instance, caplog)


class TestDroppedUpgrades(TwoPerPersonFourInAll):
    async def test_gone_while_the_membership_is_looked_up_keeps_no_place_and_logs_no_error(
        self, attack, fetch
    ):
        """Before the fix each such drop kept a place for good: the third attempt, and every
        later kernel of Ada's, got 429. tornado calls `on_close` once, and here it came
        before the connection existed, so nothing ever gave the place back (and Jupyter's
        handler logged an AttributeError, having no connection to disconnect)."""
        await attack.start_kernel(fetch)
        memberships = attack.server.identity_provider.memberships
        async with asyncio.timeout(HANG_GUARD):
            for attempt in range(ATTEMPTS):
                memberships.invalidate_user(ADA)
                attack.instance.faults.delay(0.5, path=MEMBERSHIPS)
                looked_up = attack.lookups()
                _, writer = await attack.send_upgrade()
                await attack.until(lambda n=looked_up: attack.lookups() > n)  # Clerk is asked
                writer.transport.abort()
                await attack.until(lambda n=attempt: len(attack.upgrades_answered()) > n)
                assert (attack.admission.held_by(ADA), len(attack.admission.admitted)) == (0, 0)
            await attack.a_real_socket_still_opens()
        assert not [r for r in attack.caplog.records if r.exc_info]

    async def test_gone_while_the_kernel_is_asked_for_its_info_keeps_no_place_and_logs_no_error(
        self, attack, fetch
    ):
        """The place is taken, the kernel (busy with a cell) has not answered yet. Before the
        fix the place came back, but the upgrade then went on without its connection and
        ended in a 500 with a traceback."""
        await attack.start_kernel(fetch)
        kernel = attack.server.kernel_manager.get_kernel(attack.kernel)
        client = kernel.client()
        client.start_channels()
        try:
            async with asyncio.timeout(HANG_GUARD):
                await client.wait_for_ready()
                for attempt in range(ATTEMPTS):
                    # The kernel_info waits; its interruption must not abort the next cell.
                    cell = client.execute("import time; time.sleep(60)", stop_on_error=False)
                    await running(client, cell)
                    _, writer = await attack.send_upgrade()
                    await attack.until(lambda: attack.admission.held_by(ADA) == 1)
                    writer.transport.abort()
                    await attack.until(lambda: attack.admission.held_by(ADA) == 0)
                    await kernel.interrupt_kernel()  # the kernel answers; the upgrade goes on
                    await client.get_shell_msg()  # the cell's reply: interrupted
                    await attack.until(lambda n=attempt: len(attack.upgrades_answered()) > n)
                    assert not attack.admission.admitted
                await attack.a_real_socket_still_opens()
        finally:
            client.stop_channels()
        answered = attack.upgrades_answered()
        assert not [r for r in answered if r.getMessage().startswith("5")], answered
        assert not [r for r in attack.caplog.records if r.exc_info]

    async def test_gone_right_after_the_101_keeps_no_place(self, attack, fetch):
        await attack.start_kernel(fetch)
        async with asyncio.timeout(HANG_GUARD):
            for _ in range(ATTEMPTS):
                reader, writer = await attack.send_upgrade()
                assert (await reader.readline()).startswith(b"HTTP/1.1 101")
                writer.transport.abort()
                await attack.until(lambda: not attack.admission.admitted)
            await attack.a_real_socket_still_opens()
