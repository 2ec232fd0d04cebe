"""Revocation reaches kernel WebSockets that are already open, with or without webhooks."""

from __future__ import annotations

import asyncio
import json

import pytest
from tornado.httpclient import AsyncHTTPClient
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from jupyter_clerk.devinstance.webhooks import signed_delivery
from tests.devinstance.helpers import ADA, ENGINES, GRACE, PARTNERS
from tests.identity.test_websockets import run_cell, ws_base

HANG_GUARD = 20  # seconds: only stops a broken test from hanging, never asserts a duration


async def start_kernel(fetch, token: str) -> str:
    response = await fetch("api/kernels", method="POST", body={}, token=token)
    assert response.code == 201, response.body
    return json.loads(response.body)["id"]


def channels(server_url: str, kernel_id: str, token: str) -> str:
    return f"{ws_base(server_url)}api/kernels/{kernel_id}/channels?token={token}"


async def closed(ws) -> int:
    """Waits until the server closes the socket; returns the close code."""
    async with asyncio.timeout(HANG_GUARD):
        with pytest.raises(ConnectionClosed) as info:
            while True:
                await ws.recv()
    return info.value.rcvd.code if info.value.rcvd else 0


async def test_revoked_session_closes_its_kernel_websocket_and_refuses_reconnects(
    instance_sends_webhooks, server_url, fetch
):
    instance = instance_sends_webhooks
    session = instance.create_session(ADA, ENGINES)
    token = instance.session_token(session.id)
    kernel_id = await start_kernel(fetch, token)
    async with connect(channels(server_url, kernel_id, token)) as ws:
        assert await run_cell(ws, "1+1") == "2"
        instance.revoke_session(session.id)
        assert await closed(ws) == 1008
    with pytest.raises(InvalidStatus) as info:
        async with connect(channels(server_url, kernel_id, token)):
            pass
    assert info.value.response.status_code == 401


async def test_other_sessions_keep_their_sockets(instance_sends_webhooks, server_url, fetch):
    instance = instance_sends_webhooks
    revoked = instance.create_session(ADA, ENGINES)
    kept = instance.create_session(GRACE, PARTNERS)
    kept_token = instance.session_token(kept.id)
    kernel_id = await start_kernel(fetch, kept_token)
    async with connect(channels(server_url, kernel_id, kept_token)) as ws:
        instance.revoke_session(revoked.id)
        await instance.webhooks.drain()
        assert await run_cell(ws, "2+2") == "4"


async def test_removed_member_loses_the_organizations_sockets(
    instance_sends_webhooks, server_url, fetch
):
    instance = instance_sends_webhooks
    session = instance.create_session(GRACE, PARTNERS)
    token = instance.session_token(session.id)
    kernel_id = await start_kernel(fetch, token)
    async with connect(channels(server_url, kernel_id, token)) as ws:
        instance.remove_membership(GRACE, PARTNERS)
        assert await closed(ws) == 1008
    assert (await fetch("api/me", token=token)).code == 401


async def test_deleted_user_loses_sockets_and_kernels(
    clerk_instance, server_url, fetch, webhook_url, webhook_secret, jp_serverapp
):
    session = clerk_instance.create_session(ADA, ENGINES)
    token = clerk_instance.session_token(session.id)
    kernel_id = await start_kernel(fetch, token)
    async with connect(channels(server_url, kernel_id, token)) as ws:
        body, headers = signed_delivery(
            webhook_secret, "user.deleted", {"id": ADA, "object": "user", "deleted": True}
        )
        response = await AsyncHTTPClient().fetch(
            webhook_url, method="POST", body=body, headers=headers, raise_error=False
        )
        assert response.code == 204
        assert await closed(ws) == 1008
    assert kernel_id not in jp_serverapp.kernel_manager.list_kernel_ids()
    assert (await fetch("api/me", token=token)).code == 401


class TestWithoutWebhooks:
    @pytest.fixture
    def clerk_config(self, clerk_config):
        return {**clerk_config, "websocket_revalidate_seconds": 0.2}

    async def test_periodic_check_closes_sockets_of_a_revoked_session(
        self, clerk_instance, server_url, fetch
    ):
        session = clerk_instance.create_session(ADA, ENGINES)
        token = clerk_instance.session_token(session.id)
        kernel_id = await start_kernel(fetch, token)
        async with connect(channels(server_url, kernel_id, token)) as ws:
            assert await run_cell(ws, "3+3") == "6"
            clerk_instance.revoke_session(session.id)  # no webhook configured
            assert await closed(ws) == 1008

    async def test_periodic_check_closes_a_removed_members_organization_sockets(
        self, clerk_instance, server_url, fetch
    ):
        """Without the membership re-check (checked by leaving `memberships=` out of the
        provider's revalidator) the socket stays open: only its session is re-checked."""
        session = clerk_instance.create_session(GRACE, PARTNERS)
        token = clerk_instance.session_token(session.id)
        kernel_id = await start_kernel(fetch, token)
        async with connect(channels(server_url, kernel_id, token)) as ws:
            assert await run_cell(ws, "5+5") == "10"
            clerk_instance.remove_membership(GRACE, PARTNERS)  # the session stays active
            assert await closed(ws) == 1008

    async def test_periodic_check_closes_sockets_whose_new_role_cannot_run_code(
        self, clerk_instance, server_url, fetch
    ):
        session = clerk_instance.create_session(ADA, PARTNERS)  # a member there
        token = clerk_instance.session_token(session.id)
        kernel_id = await start_kernel(fetch, token)
        async with connect(channels(server_url, kernel_id, token)) as ws:
            assert await run_cell(ws, "6+6") == "12"
            clerk_instance.change_membership_role(
                ADA, PARTNERS, "org:viewer"
            )  # reads, runs nothing
            assert await closed(ws) == 1008

    async def test_a_viewers_events_stream_survives_revalidation_and_their_token_still_works(
        self, clerk_instance, server_url, fetch, jp_serverapp
    ):
        """A viewer never could run code: nothing was lost, so nothing is closed or refused.
        Before the fix every round closed the stream and denylisted the viewer's tokens in
        that organization (contents answered 401)."""
        clerk_instance.change_membership_role(ADA, PARTNERS, "org:viewer")
        session = clerk_instance.create_session(ADA, PARTNERS)
        token = clerk_instance.session_token(session.id)
        assert (await fetch("api/contents", token=token)).code == 200
        async with connect(events(server_url, token)) as ws:
            revalidator = jp_serverapp.identity_provider.revalidator
            for _ in range(3):  # the periodic rounds run too, every 0.2 s
                assert await revalidator.check_now() == 0
            await still_open(ws)
        assert (await fetch("api/contents", token=token)).code == 200

    async def test_a_member_made_viewer_loses_kernel_sockets_but_keeps_the_events_stream(
        self, clerk_instance, server_url, fetch
    ):
        session = clerk_instance.create_session(ADA, PARTNERS)  # a member there
        token = clerk_instance.session_token(session.id)
        kernel_id = await start_kernel(fetch, token)
        async with (
            connect(channels(server_url, kernel_id, token)) as kernel_ws,
            connect(events(server_url, token)) as events_ws,
        ):
            assert await run_cell(kernel_ws, "7+7") == "14"
            clerk_instance.change_membership_role(ADA, PARTNERS, "org:viewer")
            assert await closed(kernel_ws) == 1008
            await still_open(events_ws)


def events(server_url: str, token: str) -> str:
    return f"{ws_base(server_url)}api/events/subscribe?token={token}"


async def still_open(ws, seconds: float = 1.0) -> None:
    """Reads for a while (several revalidation rounds at 0.2 s); fails if the server closes."""
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(seconds):
            while True:
                await ws.recv()


@pytest.mark.parametrize("fault", ["down", "rate_limited"])
async def test_unreachable_clerk_keeps_open_sockets_open(
    clerk_instance, server_url, fetch, jp_serverapp, fault
):
    session = clerk_instance.create_session(ADA, ENGINES)
    token = clerk_instance.session_token(session.id)
    kernel_id = await start_kernel(fetch, token)
    async with connect(channels(server_url, kernel_id, token)) as ws:
        if fault == "down":
            clerk_instance.faults.fail(503, times=100)
        else:
            clerk_instance.faults.rate_limit(retry_after=3600, times=100)
        revalidator = jp_serverapp.identity_provider.revalidator
        assert await revalidator.check_now() == 0
        assert await run_cell(ws, "4+4") == "8"
