"""`organizationMembership.updated` closes only the sockets the membership, read fresh from
Clerk, no longer covers; when Clerk cannot be asked, all of the person's sockets there."""

from __future__ import annotations

import time

import pytest
from tornado.httpclient import AsyncHTTPClient
from websockets.asyncio.client import connect

from jupyter_clerk.cache import ExpiringLRU
from jupyter_clerk.clerk_api.client import BackendUnavailable, RateLimited
from jupyter_clerk.clerk_api.memberships import MembershipCache
from jupyter_clerk.devinstance.resources import membership_json
from jupyter_clerk.devinstance.webhooks import signed_delivery
from jupyter_clerk.revocation.denylist import Revocation
from jupyter_clerk.revocation.open_sockets import OpenSockets, SocketOwner
from jupyter_clerk.revocation.webhooks import apply_event
from jupyter_clerk.workspaces.authorizer import membership_actions
from tests.devinstance.helpers import ADA, PARTNERS
from tests.identity.test_websockets import run_cell
from tests.revocation.test_indexes import FakeSocket
from tests.revocation.test_open_websockets import (
    channels,
    closed,
    events,
    start_kernel,
    still_open,
)
from tests.revocation.test_revalidation import EVENTS, KERNEL, Directory, membership

MEMBERSHIPS_PATH = r"/v1/users/[^/]+/organization_memberships"

# --- apply_event, with the membership cache over a directory standing in for Clerk ----------


def updated(user_id: str, org_id: str, role: str = "org:admin", kind: str = "updated") -> dict:
    """A delivery's event; its role is what the sender claims, never read."""
    data = {"role": role, "organization": {"id": org_id}, "public_user_data": {"user_id": user_id}}
    return {"type": f"organizationMembership.{kind}", "data": data}


def setting(directory: Directory, *, backend_api: bool = True):
    """Ada holds a kernel socket and the events stream in org_x, and a kernel in org_y."""
    sockets, held = OpenSockets(), {name: FakeSocket() for name in ("kernel", "events", "other")}
    sockets.track(held["kernel"], SocketOwner(USER, "sess_1", "org_x", KERNEL))
    sockets.track(held["events"], SocketOwner(USER, "sess_1", "org_x", EVENTS))
    sockets.track(held["other"], SocketOwner(USER, "sess_1", "org_y", KERNEL))
    cache = MembershipCache(directory.lookup, ttl=60) if backend_api else None
    tokens = ExpiringLRU(10, time.time)
    revocation = Revocation(tokens, None, cache, sockets, grants=membership_actions)
    return revocation, held


def still_open_ones(held: dict[str, FakeSocket]) -> set[str]:
    return {name for name, socket in held.items() if socket.closed_with is None}


USER = "user_a"


async def test_updated_closes_only_the_sockets_needing_more_than_clerk_now_grants():
    directory = Directory(membership(USER, "org_x", "org:viewer"), membership(USER, "org_y"))
    revocation, held = setting(directory)
    before = time.time() - 1
    assert await apply_event(revocation, updated(USER, "org_x"), None) == "closed 1 socket(s)"
    assert still_open_ones(held) == {"events", "other"}
    assert directory.lookups == [USER]
    assert revocation.refuses(USER, "sess_1", "org_x", before)  # older tokens: role unknown
    assert not revocation.refuses(USER, "sess_1", "org_y", before)


async def test_updated_reads_clerk_even_when_the_cache_is_fresh():
    """The cached memberships predate the change: they must not decide."""
    directory = Directory(membership(USER, "org_x"), membership(USER, "org_y"))
    revocation, held = setting(directory)
    cache = revocation._memberships
    await cache.memberships(USER)  # fresh: Ada is a member
    directory.memberships[0] = membership(USER, "org_x", "org:viewer")
    await apply_event(revocation, updated(USER, "org_x"), None)
    assert still_open_ones(held) == {"events", "other"}
    assert directory.lookups == [USER, USER]


async def test_updated_with_the_membership_gone_in_the_fresh_read_closes_all_there():
    revocation, held = setting(Directory(membership(USER, "org_y")))
    assert await apply_event(revocation, updated(USER, "org_x"), None) == "closed 2 socket(s)"
    assert still_open_ones(held) == {"other"}


@pytest.mark.parametrize("fault", [BackendUnavailable(503, "down"), RateLimited(3600)])
async def test_updated_when_clerk_cannot_be_asked_closes_all_there(fault):
    directory = Directory(membership(USER, "org_x"), membership(USER, "org_y"))
    directory.fail = fault
    revocation, held = setting(directory)
    assert await apply_event(revocation, updated(USER, "org_x"), None) == "closed 2 socket(s)"
    assert still_open_ones(held) == {"other"}


async def test_updated_for_someone_with_no_socket_there_asks_clerk_nothing():
    directory = Directory(membership("user_b", "org_x"))
    revocation, _held = setting(directory)
    before = time.time() - 1
    assert await apply_event(revocation, updated("user_b", "org_x"), None) == "closed 0 socket(s)"
    assert directory.lookups == []
    assert revocation.refuses("user_b", "sess_2", "org_x", before)


@pytest.mark.parametrize("backend_api", [True, False])
async def test_deleted_closes_all_there_without_asking_clerk(backend_api):
    directory = Directory(membership(USER, "org_x"), membership(USER, "org_y"))
    revocation, held = setting(directory, backend_api=backend_api)
    event = updated(USER, "org_x", kind="deleted")
    assert await apply_event(revocation, event, None) == "closed 2 socket(s)"
    assert still_open_ones(held) == {"other"} and directory.lookups == []


async def test_updated_without_a_backend_api_closes_all_there():
    """Nothing can be asked: as before, every socket there closes."""
    revocation, held = setting(Directory(), backend_api=False)
    assert await apply_event(revocation, updated(USER, "org_x"), None) == "closed 2 socket(s)"
    assert still_open_ones(held) == {"other"}


# --- end to end: the local instance's Backend API and its signed webhooks --------------------


async def kernel_and_events(instance, server_url, fetch):
    """Ada, a member of Difference Partners: a running kernel's socket and the events stream."""
    session = instance.create_session(ADA, PARTNERS)
    token = instance.session_token(session.id)
    kernel_id = await start_kernel(fetch, token)
    return connect(channels(server_url, kernel_id, token)), connect(events(server_url, token))


async def post_updated(instance, webhook_url: str, webhook_secret: str, role: str) -> int:
    """An `organizationMembership.updated` delivery whose payload claims `role`."""
    data = membership_json(instance.data.membership(ADA, PARTNERS), instance.data)
    data["role"] = role
    body, headers = signed_delivery(webhook_secret, "organizationMembership.updated", data)
    response = await AsyncHTTPClient().fetch(
        webhook_url, method="POST", body=body, headers=headers, raise_error=False
    )
    return response.code


async def test_made_viewer_the_webhook_closes_the_kernel_socket_and_keeps_the_events_stream(
    instance_sends_webhooks, server_url, fetch
):
    """Before, the webhook closed both: the viewer's events stream needs only reading."""
    instance = instance_sends_webhooks
    kernel, stream = await kernel_and_events(instance, server_url, fetch)
    async with kernel as kernel_ws, stream as events_ws:
        assert await run_cell(kernel_ws, "7+7") == "14"
        instance.change_membership_role(ADA, PARTNERS, "org:viewer")  # sends the webhook
        assert await closed(kernel_ws) == 1008
        await instance.webhooks.drain()
        assert instance.webhooks.delivered[-1] == ("organizationMembership.updated", 204)
        await still_open(events_ws, 0.5)


@pytest.mark.parametrize("fault", ["down", "rate_limited"])
async def test_when_clerk_cannot_be_asked_the_webhook_closes_every_socket_there(
    instance_sends_webhooks, server_url, fetch, fault
):
    """Fails closed: what the new role grants is not known, so nothing is assumed kept.
    (Checked: keeping the sockets on `MembershipsUnavailable` makes this test fail.)"""
    instance = instance_sends_webhooks
    kernel, stream = await kernel_and_events(instance, server_url, fetch)
    async with kernel as kernel_ws, stream as events_ws:
        assert await run_cell(kernel_ws, "8+8") == "16"
        if fault == "down":
            instance.faults.fail(503, times=100, path=MEMBERSHIPS_PATH)
        else:
            instance.faults.rate_limit(retry_after=3600, times=100, path=MEMBERSHIPS_PATH)
        instance.change_membership_role(ADA, PARTNERS, "org:viewer")
        assert await closed(kernel_ws) == 1008
        assert await closed(events_ws) == 1008


async def test_a_payload_claiming_more_than_clerk_now_grants_does_not_keep_a_kernel_socket(
    clerk_instance, server_url, fetch, webhook_url, webhook_secret
):
    """Clerk already has Ada as a viewer; a late delivery of an older change says admin. The
    fresh read decides: her kernel socket closes, her events stream stays."""
    kernel, stream = await kernel_and_events(clerk_instance, server_url, fetch)
    async with kernel as kernel_ws, stream as events_ws:
        assert await run_cell(kernel_ws, "9+9") == "18"
        clerk_instance.change_membership_role(ADA, PARTNERS, "org:viewer")  # no webhook sent
        assert await post_updated(clerk_instance, webhook_url, webhook_secret, "org:admin") == 204
        assert await closed(kernel_ws) == 1008
        await still_open(events_ws, 0.5)


async def test_a_payload_claiming_less_than_clerk_now_grants_closes_nothing(
    clerk_instance, server_url, fetch, webhook_url, webhook_secret
):
    """An older `updated` (made viewer, since made member again) arriving late: Clerk says
    member, so her kernel keeps running and her events stream stays open."""
    kernel, stream = await kernel_and_events(clerk_instance, server_url, fetch)
    async with kernel as kernel_ws, stream as events_ws:
        assert await post_updated(clerk_instance, webhook_url, webhook_secret, "org:viewer") == 204
        assert await run_cell(kernel_ws, "10+10") == "20"
        await still_open(events_ws, 0.2)
