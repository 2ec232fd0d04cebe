"""Hundreds of kernel WebSockets on one server, and a clean refusal past the configured limit.

Plain Jupyter stops at about 250 (its ZMQ context allows 1 023 sockets, four per WebSocket):
300 here need the limits the extension raises. Real kernels, real loopback WebSockets.
"""

from __future__ import annotations

import asyncio
import json
import resource
import uuid
from urllib.parse import urlparse

import pytest
import zmq
from tornado.httpclient import AsyncHTTPClient
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from jupyter_clerk.workspaces.socket_limits import ADMISSION
from tests.identity.test_websockets import ws_base

OPEN = 300
KERNELS = 3
HANG_GUARD = 120  # seconds: only stops a broken test from hanging, never asserts a duration


@pytest.fixture
def jp_server_config(jp_server_config):
    # One person opens them all here: their own limit is above the server's.
    limits = {"max_kernel_websockets": OPEN, "max_kernel_websockets_per_person": OPEN + 1}
    return {**jp_server_config, "ClerkSocketLimits": limits}


def kernel_info_request() -> tuple[str, str]:
    msg_id = uuid.uuid4().hex
    header = {
        "msg_id": msg_id,
        "msg_type": "kernel_info_request",
        "session": uuid.uuid4().hex,
        "username": "test",
        "version": "5.3",
    }
    message = {"header": header, "parent_header": {}, "metadata": {}, "content": {}}
    return msg_id, json.dumps({**message, "channel": "shell"})


async def kernel_info(ws) -> dict:
    msg_id, request = kernel_info_request()
    await ws.send(request)
    while True:
        message = json.loads(await ws.recv())
        if message["parent_header"].get("msg_id") == msg_id and message["channel"] == "shell":
            return message["content"]


async def start_kernels(fetch, token: str, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        response = await fetch("api/kernels", method="POST", token=token, body={})
        assert response.code == 201, response.body
        ids.append(json.loads(response.body)["id"])
    return ids


def channels_url(server_url: str, kernel_id: str, token: str) -> str:
    session = uuid.uuid4().hex
    return (
        f"{ws_base(server_url)}api/kernels/{kernel_id}/channels?session_id={session}&token={token}"
    )


async def refused(url: str) -> tuple[int, dict]:
    with pytest.raises(InvalidStatus) as info:
        async with connect(url):
            pass
    response = info.value.response
    return response.status_code, json.loads(response.body or b"{}")


async def test_hundreds_of_kernel_websockets_work_and_the_next_one_is_refused_cleanly(
    jp_serverapp, server_url, fetch, token_for, caplog
):
    token = token_for()
    kernels = await start_kernels(fetch, token, KERNELS)
    context = jp_serverapp.kernel_manager.context
    assert context.get(zmq.MAX_SOCKETS) >= 4 * OPEN + 1024
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= 10 * OPEN + 1024

    async with asyncio.timeout(HANG_GUARD):
        sockets = []
        try:
            for batch in range(0, OPEN, 25):
                urls = [
                    channels_url(server_url, kernels[n % KERNELS], token)
                    for n in range(batch, min(OPEN, batch + 25))
                ]
                sockets += await asyncio.gather(*(connect(u, max_queue=None) for u in urls))
            replies = await asyncio.gather(*(kernel_info(ws) for ws in sockets))
            assert all(reply["status"] == "ok" for reply in replies)

            token = token_for()  # a session token lives 60 s
            status, body = await refused(channels_url(server_url, kernels[0], token))
            assert status == 503
            assert body["reason"] == "too-many-websockets" and "notebook" in body["message"]

            await sockets.pop().close()  # a place frees up once a socket is closed
            while jp_serverapp.web_app.settings[ADMISSION].full():
                await asyncio.sleep(0.05)
            async with connect(channels_url(server_url, kernels[1], token)) as ws:
                assert (await kernel_info(ws))["status"] == "ok"
        finally:
            await asyncio.gather(*(ws.close() for ws in sockets))
    assert not [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]


class TestSmallLimit:
    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        return {**jp_server_config, "ClerkSocketLimits": {"max_kernel_websockets": 2}}  # < 100

    async def test_the_refusal_comes_from_the_limit(
        self, jp_serverapp, server_url, fetch, token_for
    ):
        """The attack, with the check switched off: the over-limit socket gets in."""
        token = token_for()
        (kernel,) = await start_kernels(fetch, token, 1)
        async with asyncio.timeout(HANG_GUARD):
            async with (
                connect(channels_url(server_url, kernel, token)),
                connect(channels_url(server_url, kernel, token)),
            ):
                assert (await refused(channels_url(server_url, kernel, token)))[0] == 503
                jp_serverapp.web_app.settings[ADMISSION].limit = None  # protection off
                async with connect(channels_url(server_url, kernel, token)) as ws:
                    assert (await kernel_info(ws))["status"] == "ok"


class TwoPerPersonFourInAll:
    """Limits small enough to reach with a handful of sockets."""

    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        limits = {"max_kernel_websockets": 4, "max_kernel_websockets_per_person": 2}
        return {**jp_server_config, "ClerkSocketLimits": limits}


class TestPerPersonLimit(TwoPerPersonFourInAll):
    """One person cannot take every place on the server: they have a limit of their own."""

    async def test_one_person_cannot_shut_others_out(
        self, jp_serverapp, server_url, fetch, token_for
    ):
        """The attack, with the per-person check switched off: one person fills the server."""
        mallory, alice = token_for("user_2aMallory"), token_for("user_2aAlice")
        # Counted per person, not per session: another sign-in does not buy more places.
        mallory_elsewhere = token_for("user_2aMallory", sid="sess_2aMalloryElsewhere")
        (mallorys,) = await start_kernels(fetch, mallory, 1)
        (alices,) = await start_kernels(fetch, alice, 1)
        admission = jp_serverapp.web_app.settings[ADMISSION]
        async with asyncio.timeout(HANG_GUARD):
            async with (
                connect(channels_url(server_url, mallorys, mallory)),
                connect(channels_url(server_url, mallorys, mallory)),
            ):
                with pytest.raises(InvalidStatus) as info:
                    async with connect(channels_url(server_url, mallorys, mallory_elsewhere)):
                        pass
                response = info.value.response
                assert response.status_code == 429 and response.headers["Retry-After"]
                body = json.loads(response.body)
                assert body["reason"] == "too-many-websockets-for-person"
                async with connect(channels_url(server_url, alices, alice)) as ws:
                    assert (await kernel_info(ws))["status"] == "ok"

                admission.per_person = None  # protection off: Mallory takes the last places
                async with (
                    connect(channels_url(server_url, mallorys, mallory)),
                    connect(channels_url(server_url, mallorys, mallory)),
                ):
                    status, body = await refused(channels_url(server_url, alices, alice))
                    assert (status, body["reason"]) == (503, "too-many-websockets")

    async def test_a_closed_socket_frees_its_place_even_without_a_close_handshake(
        self, jp_serverapp, server_url, fetch, token_for
    ):
        token = token_for("user_2aMallory")
        (kernel,) = await start_kernels(fetch, token, 1)
        admission = jp_serverapp.web_app.settings[ADMISSION]
        async with asyncio.timeout(HANG_GUARD):
            # Unbounded queue: unread status messages must not hold up its closing handshake.
            kept = await connect(channels_url(server_url, kernel, token), max_queue=None)
            try:
                for close in ("abort", "close"):
                    ws = await connect(channels_url(server_url, kernel, token))
                    assert admission.full_for("user_2aMallory")
                    if close == "abort":
                        ws.transport.abort()  # the TCP connection just ends: no close frame
                    else:
                        await ws.close()
                    while admission.full_for("user_2aMallory"):
                        await asyncio.sleep(0.05)
                async with connect(channels_url(server_url, kernel, token)) as ws:
                    assert (await kernel_info(ws))["status"] == "ok"
            finally:
                await kept.close()


# What tornado refuses after Jupyter's pre_get; each gets the token the way a browser or curl
# would send it (a cookie is what makes a foreign Origin count: explicit tokens may cross).
REFUSED_UPGRADES = {
    "no Sec-WebSocket-Key": ({"Upgrade": "websocket", "Connection": "Upgrade"}, 426),
    "no Upgrade header": ({}, 400),
    "foreign Origin, cookie": (
        {
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
            "Origin": "https://evil.example",
        },
        403,
    ),
}


def credential(kind: str, token: str) -> dict[str, str]:
    if "cookie" in kind:
        return {"Cookie": f"__session={token}"}
    return {"Authorization": f"Bearer {token}"}


class TestRefusedUpgrades(TwoPerPersonFourInAll):
    """An upgrade tornado refuses after admission (curl with any valid token) gives its place
    back: before, three per kind locked the person out of kernels until restart.

    Checked against the code before the fix: the third upgrade without a Sec-WebSocket-Key got
    429, the two before it holding the person's places for good."""

    async def test_refused_upgrades_hold_no_place_and_closes_return_the_counts_to_zero(
        self, jp_serverapp, server_url, fetch, token_for
    ):
        token = token_for("user_2aMallory")
        (kernel,) = await start_kernels(fetch, token, 1)
        admission = jp_serverapp.web_app.settings[ADMISSION]
        async with asyncio.timeout(HANG_GUARD):
            for kind, (headers, code) in REFUSED_UPGRADES.items():
                for _ in range(3):  # more than the person's limit, and than half the server's
                    response = await AsyncHTTPClient().fetch(
                        f"{server_url}api/kernels/{kernel}/channels",
                        headers={**headers, **credential(kind, token)},
                        raise_error=False,
                    )
                    assert response.code == code, kind
                assert (admission.held_by("user_2aMallory"), len(admission.admitted)) == (0, 0)
            async with connect(channels_url(server_url, kernel, token)) as ws:
                assert (await kernel_info(ws))["status"] == "ok"
                assert (admission.held_by("user_2aMallory"), len(admission.admitted)) == (1, 1)
                aborted = await connect(channels_url(server_url, kernel, token))
                aborted.transport.abort()
            while len(admission.admitted):
                await asyncio.sleep(0.05)
            assert admission.held_by("user_2aMallory") == 0

    async def test_upgrades_dropped_midway_hold_no_place(
        self, jp_serverapp, server_url, fetch, token_for
    ):
        """The TCP connection ends at various points of a valid upgrade (before admission,
        during the kernel handshake, after the 101): every place comes back."""
        token = token_for("user_2aMallory")
        (kernel,) = await start_kernels(fetch, token, 1)
        admission = jp_serverapp.web_app.settings[ADMISSION]
        url = urlparse(server_url)
        request = (
            f"GET {url.path}api/kernels/{kernel}/channels HTTP/1.1\r\nHost: {url.netloc}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        ).encode()
        async with asyncio.timeout(HANG_GUARD):
            for linger in (0, 0.001, 0.01, 0.05, 0.2):
                for _ in range(3):  # more than the person's limit
                    _, writer = await asyncio.open_connection(url.hostname, url.port)
                    writer.write(request)
                    await writer.drain()
                    await asyncio.sleep(linger)
                    writer.transport.abort()
                while len(admission.admitted):
                    await asyncio.sleep(0.05)
            async with connect(channels_url(server_url, kernel, token)) as ws:
                assert (await kernel_info(ws))["status"] == "ok"
