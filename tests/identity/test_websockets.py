"""Kernel and other WebSockets over real loopback connections, with real kernels."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus


def ws_base(server_url: str) -> str:
    return "ws" + server_url.removeprefix("http")


def execute_request(code: str) -> str:
    header = {
        "msg_id": uuid.uuid4().hex,
        "msg_type": "execute_request",
        "session": uuid.uuid4().hex,
        "username": "test",
        "version": "5.3",
    }
    return json.dumps(
        {
            "header": header,
            "parent_header": {},
            "metadata": {},
            "channel": "shell",
            "content": {
                "code": code,
                "silent": False,
                "store_history": False,
                "user_expressions": {},
                "allow_stdin": False,
            },
        }
    )


async def run_cell(ws, code: str) -> str:
    await ws.send(execute_request(code))
    async with asyncio.timeout(60):
        while True:
            message = json.loads(await ws.recv())
            if message["msg_type"] == "execute_result":
                return message["content"]["data"]["text/plain"]


async def test_kernel_websocket_with_query_token_runs_code(server_url, kernel_id, token_for):
    kid = await kernel_id()
    url = f"{ws_base(server_url)}api/kernels/{kid}/channels?token={token_for()}"
    async with connect(url) as ws:
        assert await run_cell(ws, "1+1") == "2"


async def test_kernel_websocket_with_bearer_header_runs_code(server_url, kernel_id, token_for):
    kid = await kernel_id()
    url = f"{ws_base(server_url)}api/kernels/{kid}/channels"
    async with connect(url, additional_headers={"Authorization": f"Bearer {token_for()}"}) as ws:
        assert await run_cell(ws, "1+1") == "2"


async def test_kernel_websocket_with_same_origin_cookie_runs_code(
    server_url, kernel_id, token_for, jp_http_port
):
    kid = await kernel_id()
    url = f"{ws_base(server_url)}api/kernels/{kid}/channels"
    async with connect(
        url,
        origin=f"http://127.0.0.1:{jp_http_port}",
        additional_headers={"Cookie": f"__session={token_for()}"},
    ) as ws:
        assert await run_cell(ws, "1+1") == "2"


async def test_cross_site_websocket_hijacking_with_a_cookie_is_refused(
    server_url, kernel_id, token_for
):
    kid = await kernel_id()
    url = f"{ws_base(server_url)}api/kernels/{kid}/channels"
    with pytest.raises(InvalidStatus) as info:
        async with connect(
            url,
            origin="https://evil.example",
            additional_headers={"Cookie": f"__session={token_for()}"},
        ):
            pass
    assert info.value.response.status_code == 403


async def test_foreign_origin_with_an_explicit_token_is_allowed(server_url, kernel_id, token_for):
    kid = await kernel_id()
    url = f"{ws_base(server_url)}api/kernels/{kid}/channels?token={token_for()}"
    async with connect(url, origin="https://notebooks.example.com") as ws:
        assert await run_cell(ws, "2*21") == "42"


@pytest.mark.parametrize(
    "path", ["api/kernels/{kid}/channels", "api/events/subscribe", "terminals/websocket/1"]
)
async def test_every_websocket_refuses_a_missing_credential(server_url, kernel_id, path):
    kid = await kernel_id()
    with pytest.raises(InvalidStatus) as info:
        async with connect(ws_base(server_url) + path.format(kid=kid)):
            pass
    assert info.value.response.status_code == 401


async def test_websocket_refuses_an_invalid_query_token(server_url, kernel_id, token_for):
    kid = await kernel_id()
    bad = token_for(azp="https://evil.example")
    with pytest.raises(InvalidStatus) as info:
        async with connect(f"{ws_base(server_url)}api/kernels/{kid}/channels?token={bad}"):
            pass
    assert info.value.response.status_code == 401
    assert bad.encode() not in info.value.response.body


async def test_two_query_tokens_are_refused(server_url, kernel_id, token_for):
    kid = await kernel_id()
    url = f"{ws_base(server_url)}api/kernels/{kid}/channels?token={token_for()}&token={token_for()}"
    with pytest.raises(InvalidStatus) as info:
        async with connect(url):
            pass
    assert info.value.response.status_code == 401
