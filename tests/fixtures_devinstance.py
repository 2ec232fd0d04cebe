"""Pytest fixtures that run a local Clerk-compatible instance in the tests' event loop.

The Jupyter server of pytest-jupyter, the instance and the async tests all share
`jp_asyncio_loop`, so they can talk to each other over loopback in one process. Override
`clerk_allowed_origins` to put the Jupyter server's origin first: it is then the `azp` of
tokens minted without an explicit one, and the default redirect target of the sign-in page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from jupyter_clerk.devinstance import DevInstance


@pytest.fixture
def clerk_allowed_origins() -> list[str]:
    """Origins the instance trusts for redirects, CORS and `azp`: any loopback port."""
    return ["http://127.0.0.1:*", "http://localhost:*"]


@pytest.fixture
def clerk_instance(
    clerk_allowed_origins: list[str], jp_asyncio_loop: asyncio.AbstractEventLoop
) -> Iterator[DevInstance]:
    """A running instance with the shipped demo data on a free loopback port."""
    instance = DevInstance(allowed_origins=clerk_allowed_origins)
    jp_asyncio_loop.run_until_complete(instance.start())
    try:
        yield instance
    finally:
        jp_asyncio_loop.run_until_complete(instance.stop())
