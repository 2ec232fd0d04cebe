"""`/api/events/subscribe`: everyone gets their own workspace's events, nobody else's.

The attack: Grace (Difference Partners) subscribes and waits for what Ada does in Analytical
Engines. With the filter switched off (`deliver_everything` below) she hears Ada's file names;
with it on she hears only her own.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect

from jupyter_clerk.workspaces import events
from tests.devinstance.helpers import ADA, ENGINES, GRACE, PARTNERS, VERA
from tests.identity.test_websockets import ws_base

CONTENTS = "https://events.jupyter.org/jupyter_server/contents_service/v1"
KERNELS = "https://events.jupyter.org/jupyter_server/kernel_actions/v1"


def subscribe(server_url: str, person) -> connect:
    return connect(f"{ws_base(server_url)}api/events/subscribe?token={person.token}")


async def next_event(ws, schema_id: str) -> dict:
    """The next event of one schema; bounded, so a silent stream fails instead of hanging."""
    while True:
        event = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        if event["schema_id"] == schema_id:
            return event


async def save(person, name: str) -> None:
    body = {"type": "file", "format": "text", "content": name}
    assert (await person.put(f"api/contents/{name}", body))[0] == 201


async def test_a_viewer_hears_file_changes_in_her_organization(tab, server_url):
    ada, vera = tab(ADA, ENGINES), tab(VERA, ENGINES)
    async with subscribe(server_url, vera) as stream:
        await save(ada, "engines-notes.txt")
        event = await next_event(stream, CONTENTS)
        while event["action"] != "save":
            event = await next_event(stream, CONTENTS)
    assert event["path"] == "engines-notes.txt"


async def heard_by_grace(tab, server_url) -> list[str]:
    """What Grace's stream carries while Ada saves in Engines and then Grace in Partners."""
    ada, grace = tab(ADA, ENGINES), tab(GRACE, PARTNERS)
    async with subscribe(server_url, grace) as stream:
        await save(ada, "engines-secret-plan.txt")
        await save(grace, "partners-own.txt")
        heard = []
        while "partners-own.txt" not in heard:
            heard.append((await next_event(stream, CONTENTS))["path"])
    return heard


async def test_another_organization_hears_nothing_of_it(tab, server_url):
    assert await heard_by_grace(tab, server_url) == ["partners-own.txt"]


@pytest.fixture
def deliver_everything(monkeypatch):
    """The protection switched off: how the test above was seen to fail."""
    monkeypatch.setattr(events, "should_deliver", lambda subscriber, schema_id: True)


@pytest.mark.usefixtures("deliver_everything")
async def test_without_the_filter_the_attack_succeeds(tab, server_url):
    assert "engines-secret-plan.txt" in await heard_by_grace(tab, server_url)


async def test_kernel_events_reach_only_their_owner(tab, server_url):
    ada, vera = tab(ADA, ENGINES), tab(VERA, ENGINES)
    async with subscribe(server_url, ada) as own, subscribe(server_url, vera) as colleague:
        code, kernel = await ada.post("api/kernels")
        assert code == 201
        assert (await next_event(own, KERNELS))["kernel_id"] == kernel["id"]
        await save(ada, "after-kernel.txt")
        # Vera's next event of any kind is the file save: the kernel start never reached her.
        first = json.loads(await asyncio.wait_for(colleague.recv(), timeout=10))
        assert first["schema_id"] == CONTENTS
        assert (await ada.delete(f"api/kernels/{kernel['id']}"))[0] == 204
