"""Fixtures of the Hub tests: one real Hub (see `stack`) per test module."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.hub.stack import ADA, ENGINES, GRACE, LINUS, PARTNERS, VERA, Browser, Hub, run_hub

__all__ = ["ADA", "ENGINES", "GRACE", "LINUS", "PARTNERS", "VERA", "Browser", "Hub"]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    with run_hub(tmp_path_factory.mktemp("hub")) as running:
        yield running


@pytest.fixture
def jp_asyncio_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """pytest-jupyter's autouse loop, replaced: nothing here runs in it."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture
def jp_server_cleanup() -> None:
    """pytest-jupyter's autouse cleanup, replaced: no Jupyter server runs in this process."""
