"""A hostile file tree: a FIFO swapped in for a file, and a huge sparse file. Neither may
hold the server for anyone, nor be read whole into one response."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest
from tornado.httpclient import AsyncHTTPClient

from tests.devinstance.helpers import ADA, ENGINES, GRACE, PARTNERS

CAP = 1 << 20


def text(content: str) -> dict:
    return {"type": "file", "format": "text", "content": content}


@pytest.fixture
def jp_server_config(jp_server_config):
    return {**jp_server_config, "WorkspaceContentsManager": {"max_response_bytes": CAP}}


class Watchdog(threading.Thread):
    """Plays the writer a blocked server waits for, every few seconds, and notes that it had
    to: without it, a server stuck opening a FIFO would hang this test forever."""

    def __init__(self, fifo: str) -> None:
        super().__init__(daemon=True)
        self.fifo, self.done, self.rescues = fifo, threading.Event(), 0

    def run(self) -> None:
        while not self.done.wait(3):
            try:
                os.close(os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK))
                self.rescues += 1
            except OSError:
                pass  # no one is waiting to read


async def test_a_fifo_swapped_in_for_a_file_blocks_no_one(tab, root, protection):
    ada, grace = tab(ADA, ENGINES), tab(GRACE, PARTNERS)
    await ada.get("api/contents")
    await grace.put("api/contents/g.txt", text("grace's"))
    fifo = root / "orgs" / ENGINES / "data.txt"
    os.mkfifo(fifo)
    watchdog = Watchdog(str(fifo))
    watchdog.start()
    try:
        codes = [(await ada.get(path))[0] for path in ("api/contents/data.txt", "files/data.txt")]
        code, model = await grace.get("api/contents/g.txt")
    finally:
        watchdog.done.set()
        watchdog.join()
    assert (code, model["content"]) == (200, "grace's")
    if not protection:
        assert watchdog.rescues >= 1  # the open waited for a writer, on the event loop
        return
    assert watchdog.rescues == 0
    assert codes == [400, 400]
    listing = (await ada.get("api/contents"))[1]
    assert "data.txt" not in {item["name"] for item in listing["content"]}


async def test_a_file_over_the_cap_answers_413_not_its_content(tab, root, jp_serverapp, protection):
    ada = tab(ADA, ENGINES)
    await ada.get("api/contents")
    with open(root / "orgs" / ENGINES / "big.bin", "wb") as f:
        f.truncate(4 * CAP)  # sparse
    if not protection:
        jp_serverapp.contents_manager.max_response_bytes = 0
    code, body = await ada.get("api/contents/big.bin?format=base64")
    if not protection:
        assert code == 200 and len(body["content"]) > 4 * CAP  # all of it, in one response
        return
    assert code == 413
    assert "/files/" in body["message"] and str(CAP) in body["message"]


async def test_files_streams_a_huge_sparse_file_while_others_are_served(tab, root, server_url):
    ada, grace = tab(ADA, ENGINES), tab(GRACE, PARTNERS)
    await ada.get("api/contents")
    await grace.put("api/contents/g.txt", text("grace's"))
    size = 256 * CAP
    with open(root / "orgs" / ENGINES / "huge.bin", "wb") as f:
        f.truncate(size)
    received = 0

    def count(chunk: bytes) -> None:
        nonlocal received
        received += len(chunk)

    download = asyncio.ensure_future(
        AsyncHTTPClient(force_instance=True, max_body_size=2 * size).fetch(
            server_url + "files/huge.bin",
            headers={"Authorization": f"Bearer {ada.token}", "X-Clerk-Workspace": ENGINES},
            streaming_callback=count,
            request_timeout=300,
        )
    )
    served_meanwhile = 0
    while not download.done():
        code, model = await grace.get("api/contents/g.txt")
        assert (code, model["content"]) == (200, "grace's")
        served_meanwhile += not download.done()
    assert (await download).code == 200
    assert received == size
    assert served_meanwhile >= 1
