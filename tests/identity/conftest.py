"""Fixtures of the WebSocket tests (tokens in URLs, tickets)."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def kernel_id(jp_serverapp, fetch, token_for):
    async def start() -> str:
        response = await fetch("api/kernels", method="POST", token=token_for(), body={})
        assert response.code == 201
        return json.loads(response.body)["id"]

    return start
