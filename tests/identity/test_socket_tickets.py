"""Single-use WebSocket tickets: a URL that is logged or shown is worth nothing afterwards."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from jupyter_clerk.auth.socket_tickets import SocketTickets, Ticket, TooManyTickets
from jupyter_clerk.logscrub import scrub
from tests.identity.test_websockets import run_cell, ws_base


async def ticket_for(fetch, token: str) -> str:
    response = await fetch("clerk/api/socket-ticket", method="POST", token=token, body={})
    assert response.code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return json.loads(response.body)["ticket"]


async def refused(url: str, **kw) -> int:
    with pytest.raises(InvalidStatus) as info:
        async with connect(url, **kw):
            pass
    return info.value.response.status_code


async def test_a_ticket_opens_one_websocket_and_only_one(server_url, kernel_id, token_for, fetch):
    kid = await kernel_id()
    ticket = await ticket_for(fetch, token_for())
    url = f"{ws_base(server_url)}api/kernels/{kid}/channels?ticket={ticket}"
    async with connect(url, origin="https://notebooks.example.com") as ws:
        assert await run_cell(ws, "6*7") == "42"
    assert await refused(url) == 401


async def test_a_ticket_cannot_be_had_with_the_ambient_cookie(fetch, token_for, jp_http_port):
    """A ticket is an explicit credential (no Origin check), so a cookie must not buy one: else
    any site the person visits could open their kernels' WebSockets. Checked by removing the
    `Source.HEADER` condition in pages/socket_ticket.py: this request then got a ticket (200).
    The _xsrf cookie and header are sent, as a same-origin page would, so that Jupyter's own
    XSRF check passes and only ours is left to refuse."""
    xsrf = "2|deadbeef|0123456789abcdef0123456789abcdef|1700000000"
    response = await fetch(
        "clerk/api/socket-ticket",
        method="POST",
        body={},
        headers={
            "Cookie": f"__session={token_for()}; _xsrf={xsrf}",
            "X-XSRFToken": xsrf,
            "Origin": f"http://127.0.0.1:{jp_http_port}",
            "Referer": f"http://127.0.0.1:{jp_http_port}/lab",
        },
    )
    assert response.code == 403
    assert b"needs the session token in the header" in response.body


async def test_a_ticket_is_no_bearer_token_and_no_credential_outside_an_upgrade(
    server_url, token_for, fetch
):
    ticket = await ticket_for(fetch, token_for())
    assert (await fetch("api/me", token=ticket)).code == 401
    assert (await fetch(f"api/me?ticket={ticket}")).code in (401, 403)


async def test_a_ticket_of_a_session_ended_meanwhile_opens_nothing(
    server_url, kernel_id, token_for, fetch, jp_serverapp
):
    kid = await kernel_id()
    ticket = await ticket_for(fetch, token_for(sid="sess_2aEndedMeanwhile"))
    # The token behind the ticket is checked again on use, revocation included.
    jp_serverapp.identity_provider.revocation.session_ended("sess_2aEndedMeanwhile", "revoked")
    assert await refused(f"{ws_base(server_url)}api/kernels/{kid}/channels?ticket={ticket}") == 401


async def test_an_unknown_ticket_is_refused(server_url, kernel_id, token_for, fetch):
    kid = await kernel_id()
    ticket = await ticket_for(fetch, token_for())
    url = f"{ws_base(server_url)}api/kernels/{kid}/channels?ticket={ticket}x"
    assert await refused(url) == 401


def test_tickets_expire_and_are_single_use():
    now = [1000.0]
    tickets = SocketTickets(ttl=30, clock=lambda: now[0])
    first = tickets.issue("token-a", "sess_a", None)
    second = tickets.issue("token-b", "sess_b", "org_x")
    assert first != second and first.startswith("wst_")
    assert tickets.redeem(first) == Ticket("token-a", None)
    assert tickets.redeem(first) is None
    now[0] += 31
    assert tickets.redeem(second) is None
    assert tickets.redeem("wst_unknown") is None


def test_one_session_cannot_crowd_out_everyone_elses_tickets():
    """Without a per-session cap, one person asking in a loop evicts every other tenant's
    live tickets from the shared bound, and their WebSockets fail to open."""
    tickets = SocketTickets(max_tickets=100, per_session=3)
    others = tickets.issue("token-other", "sess_other", None)
    for _ in range(3):
        tickets.issue("token-greedy", "sess_greedy", None)
    with pytest.raises(TooManyTickets):
        tickets.issue("token-greedy", "sess_greedy", None)
    assert tickets.redeem(others) == Ticket("token-other", None)


async def test_a_ticket_opens_only_the_workspace_it_was_asked_for(
    server_url, kernel_id, token_for, fetch
):
    """A ticket asked for in the personal workspace cannot open a socket that names an
    organization (checked by removing the comparison in the provider: it then opened)."""
    kid = await kernel_id()
    ticket = await ticket_for(fetch, token_for())
    url = f"{ws_base(server_url)}api/kernels/{kid}/channels?ticket={ticket}&workspace=personal"
    assert await refused(url) == 401


def test_tickets_never_reach_a_log_line():
    assert "wst_abc" not in scrub("GET /api/kernels/x/channels?ticket=wst_abc&workspace=org_x")
