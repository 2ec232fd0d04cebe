"""Every WebSocket a person holds counts against their limit and the server's, not only
kernel sockets: the events stream, terminals, language servers and any extension's socket.

Uncounted, one person could hold thousands of `/api/events/subscribe` sockets (a review of
issue 15 held 12 against limits of 2 and 4): they use up the very file descriptors the limit
was sized for, so other people's kernel sockets fail with "Too many open files" instead of a
clean 503, and every event runs one listener per socket on the event loop.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado.httpclient import AsyncHTTPClient
from tornado.websocket import WebSocketHandler
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from jupyter_clerk.workspaces.socket_limits import ADMISSION
from tests.identity.test_websockets import ws_base
from tests.workspaces.test_kernel_websocket_limit import (
    HANG_GUARD,
    REFUSED_UPGRADES,
    TwoPerPersonFourInAll,
    channels_url,
    credential,
    kernel_info,
    start_kernels,
)

MANY = 12  # three times the server's whole limit of 4, six times the person's 2
MALLORY = "user_2aMallory"


def events_url(server_url: str, token: str) -> str:
    return f"{ws_base(server_url)}api/events/subscribe?token={token}"


async def refusal(url: str) -> tuple[int, str, dict]:
    with pytest.raises(InvalidStatus) as info:
        async with connect(url):
            pass
    response = info.value.response
    return response.status_code, response.headers["Retry-After"], json.loads(response.body)


async def emptied(admission) -> None:
    """Waits (bounded by the callers' HANG_GUARD) until every place has come back."""
    while admission.admitted:
        await asyncio.sleep(0.05)


class FailsToOpen(JupyterHandler, WebSocketHandler):
    """An extension's WebSocket whose `open` fails after the 101: tornado then aborts the
    socket without ever calling `on_close`."""

    @ws_authenticated
    async def get(self, *args, **kwargs) -> None:
        await super().get(*args, **kwargs)

    async def open(self) -> None:
        raise RuntimeError("an extension's socket that cannot open")


class TestEventSocketsCount(TwoPerPersonFourInAll):
    async def test_one_person_cannot_hold_more_sockets_than_the_servers_limit(
        self, server_url, token_for
    ):
        """Before the fix all 12 events sockets of one person opened (a kernel socket past
        their 2nd got 429)."""
        url = events_url(server_url, token_for(MALLORY))
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

    async def test_events_sockets_get_the_per_person_and_server_refusals(
        self, jp_serverapp, server_url, fetch, token_for
    ):
        """The attack, with the per-person check switched off: Mallory's events sockets fill
        the server and Alice's kernel socket is refused."""
        mallory, alice = token_for(MALLORY), token_for("user_2aAlice")
        (alices,) = await start_kernels(fetch, alice, 1)
        admission = jp_serverapp.web_app.settings[ADMISSION]
        async with asyncio.timeout(HANG_GUARD):
            async with (
                connect(events_url(server_url, mallory)),
                connect(events_url(server_url, mallory)),
            ):
                status, retry_after, body = await refusal(events_url(server_url, mallory))
                assert (status, body["reason"]) == (429, "too-many-websockets-for-person")
                assert retry_after and "tabs" in body["message"]
                assert admission.held_by(MALLORY) == 2

                admission.per_person = None  # protection off: Mallory takes the last places
                async with (
                    connect(events_url(server_url, mallory)),
                    connect(events_url(server_url, mallory)),
                ):
                    status, retry_after, body = await refusal(
                        channels_url(server_url, alices, alice)
                    )
                    assert (status, body["reason"]) == (503, "too-many-websockets")
                    assert retry_after and "notebook" in body["message"]
            await emptied(admission)

    async def test_kernel_and_events_sockets_share_the_limit_each_counted_once(
        self, jp_serverapp, server_url, fetch, token_for
    ):
        token = token_for(MALLORY)
        (kernel,) = await start_kernels(fetch, token, 1)
        admission = jp_serverapp.web_app.settings[ADMISSION]
        async with asyncio.timeout(HANG_GUARD):
            async with connect(channels_url(server_url, kernel, token)) as ws:
                assert (await kernel_info(ws))["status"] == "ok"
                assert (admission.held_by(MALLORY), len(admission.admitted)) == (1, 1)
                async with connect(events_url(server_url, token)):
                    assert (admission.held_by(MALLORY), len(admission.admitted)) == (2, 2)
                    for url in (
                        events_url(server_url, token),
                        channels_url(server_url, kernel, token),
                    ):
                        assert (await refusal(url))[0] == 429
            await emptied(admission)
        assert admission.held_by(MALLORY) == 0

    async def test_refused_and_dropped_events_sockets_hold_no_place(
        self, jp_serverapp, server_url, token_for
    ):
        token = token_for(MALLORY)
        admission = jp_serverapp.web_app.settings[ADMISSION]
        async with asyncio.timeout(HANG_GUARD):
            for kind, (headers, code) in REFUSED_UPGRADES.items():
                for _ in range(3):  # more than the person's limit
                    response = await AsyncHTTPClient().fetch(
                        f"{server_url}api/events/subscribe",
                        headers={**headers, **credential(kind, token)},
                        raise_error=False,
                    )
                    assert response.code == code, kind
                assert not admission.admitted, kind
            for _ in range(3):
                ws = await connect(events_url(server_url, token))
                ws.transport.abort()  # the TCP connection just ends: no close frame
                await emptied(admission)
            async with (
                connect(events_url(server_url, token)),
                connect(events_url(server_url, token)),
            ):
                assert admission.held_by(MALLORY) == 2

    async def test_an_extensions_socket_that_fails_to_open_gives_its_place_back(
        self, jp_serverapp, server_url, token_for
    ):
        """Checked against the code without the `open` hook: each failed socket kept its
        place, and the third attempt got 429."""
        path = url_path_join(jp_serverapp.base_url, "clerk-test/fails-to-open")
        jp_serverapp.web_app.add_handlers(".*$", [(path, FailsToOpen)])
        url = f"{ws_base(server_url)}clerk-test/fails-to-open?token={token_for(MALLORY)}"
        admission = jp_serverapp.web_app.settings[ADMISSION]
        async with asyncio.timeout(HANG_GUARD):
            for _ in range(3):  # more than the person's limit
                async with connect(url) as ws:  # the 101 comes before `open`
                    with pytest.raises(ConnectionClosed):
                        await ws.recv()
                await emptied(admission)

    async def test_sockets_refused_after_admission_by_authorization_hold_no_place(
        self, jp_serverapp, server_url, fetch, token_for
    ):
        """Admission comes before authorization (here: another person's kernel, 404): a
        refusal there gives the place back."""
        mallory, alice = token_for(MALLORY), token_for("user_2aAlice")
        (alices,) = await start_kernels(fetch, alice, 1)
        admission = jp_serverapp.web_app.settings[ADMISSION]
        async with asyncio.timeout(HANG_GUARD):
            for _ in range(3):  # more than the person's limit
                with pytest.raises(InvalidStatus) as info:
                    async with connect(channels_url(server_url, alices, mallory)):
                        pass
                assert info.value.response.status_code == 404  # not hers: not found
            assert not admission.admitted
            async with (
                connect(events_url(server_url, mallory)),
                connect(events_url(server_url, mallory)),
            ):
                assert admission.held_by(MALLORY) == 2
