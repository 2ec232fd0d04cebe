"""Terminals: off unless configured; then for allowed roles, in the workspace, owner-only."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.devinstance.helpers import ADA, ENGINES, GRACE, PARTNERS
from tests.identity.test_websockets import ws_base


async def test_terminals_are_off_by_default(tab):
    assert (await tab(ADA, ENGINES).post("api/terminals"))[0] == 404


class TestTerminalsOn:
    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        return {**jp_server_config, "ClerkApp": {"terminals": True}}

    async def test_admin_gets_a_shell_in_the_workspace(self, tab, server_url, root, monkeypatch):
        monkeypatch.setenv("CLERK_SECRET_KEY", "sk_test_plantedInTheServer")
        ada = tab(ADA, ENGINES)
        code, model = await ada.post("api/terminals", {"cwd": "../../.."})
        assert code == 200
        url = f"{ws_base(server_url)}terminals/websocket/{model['name']}?token={ada.token}"
        async with connect(url) as ws:
            await ws.send(json.dumps(["stdin", "pwd; echo clerk-vars=$(env | grep -c CLERK_)\r"]))
            output = ""
            async with asyncio.timeout(20):
                while not re.search(r"clerk-vars=\d", output):
                    message = json.loads(await ws.recv())
                    if message[0] == "stdout":
                        output += message[1]
        assert str(root / "orgs" / ENGINES) in output
        assert "clerk-vars=0" in output

    async def test_members_without_an_allowed_role_get_no_terminal(self, tab):
        assert (await tab(ADA, ENGINES, workspace=PARTNERS).post("api/terminals"))[0] == 403

    async def test_other_people_cannot_see_or_attach_to_a_terminal(self, tab, server_url):
        ada, grace = tab(ADA, ENGINES), tab(GRACE, PARTNERS)
        name = (await ada.post("api/terminals"))[1]["name"]
        assert (await grace.get("api/terminals"))[1] == []
        assert (await grace.get(f"api/terminals/{name}"))[0] == 404
        assert (await grace.delete(f"api/terminals/{name}"))[0] == 404
        # Naming someone else's terminal gives a new one of one's own, as a free name does.
        code, other = await grace.post("api/terminals", {"name": name})
        assert code == 200
        assert other["name"] != name
        assert (await grace.delete(f"api/terminals/{other['name']}"))[0] == 204
        url = f"{ws_base(server_url)}terminals/websocket/{name}?token={grace.token}"
        with pytest.raises(InvalidStatus) as info:
            async with connect(url):
                pass
        assert info.value.response.status_code == 404
        assert [t["name"] for t in (await ada.get("api/terminals"))[1]] == [name]
        assert (await ada.delete(f"api/terminals/{name}"))[0] == 204
