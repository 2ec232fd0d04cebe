"""The Hub's webhook service: a delivery it could not pass on is retried, not lost."""

from __future__ import annotations

import socket

import pytest
from tornado.httpclient import AsyncHTTPClient
from tornado.httpserver import HTTPServer

from jupyter_clerk.devinstance.webhooks import new_webhook_secret, signed_delivery
from jupyter_clerk.hub.webhook_service import make_app, revocation_for


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_a_delivery_the_hub_cannot_take_is_answered_503_and_its_retry_is_not_a_replay():
    """Before, the message id was remembered before the Hub was asked: a Hub that was down
    gave a 500, and Clerk's retry (same id) was refused as a replay, so the revocation was
    lost until the next poll."""
    secret = new_webhook_secret()
    hub_down = f"http://127.0.0.1:{_closed_port()}/hub/api/clerk/revocations"
    server = HTTPServer(make_app(secret, hub_down, "service-token", "/services/clerk"))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    server.add_sockets([listener])
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/services/clerk/webhooks"
    data = {"id": "sess_2aHubWasDown", "user_id": "user_2aHubWasDown", "status": "revoked"}
    body, headers = signed_delivery(secret, "session.revoked", data)
    try:
        for _ in range(2):  # the delivery, then Clerk's retry with the same id
            response = await AsyncHTTPClient().fetch(
                url, method="POST", body=body, headers=headers, raise_error=False
            )
            assert response.code == 503
    finally:
        server.stop()


MEMBERSHIP = {
    "organization": {"id": "org_2aDemoAnalyticalEngines"},
    "public_user_data": {"user_id": "user_2aDemoAdaLovelace"},
    "role": "org:admin",
}


def test_membership_and_organization_events_become_hub_revocations() -> None:
    user, org = "user_2aDemoAdaLovelace", "org_2aDemoAnalyticalEngines"
    deleted = revocation_for({"type": "organizationMembership.deleted", "data": MEMBERSHIP})
    assert deleted == {"kind": "membership", "user": user, "org": org}
    # The role itself is not passed on: the Hub asks Clerk for the membership as it is now.
    updated = revocation_for({"type": "organizationMembership.updated", "data": MEMBERSHIP})
    assert updated == {"kind": "role", "user": user, "org": org}
    gone = {"object": "organization", "id": org, "deleted": True}
    assert revocation_for({"type": "organization.deleted", "data": gone}) == {
        "kind": "organization",
        "org": org,
    }


@pytest.mark.parametrize(
    "event",
    [
        {"type": "organization.deleted", "data": {"id": "user_2aNotAnOrg"}},
        {"type": "organization.deleted", "data": ["org_2aDemoAnalyticalEngines"]},
        {"type": "organizationMembership.updated", "data": {**MEMBERSHIP, "organization": "x"}},
        {"type": "organization.updated", "data": {"id": "org_2aDemoAnalyticalEngines"}},
    ],
)
def test_malformed_or_other_events_revoke_nothing(event: dict) -> None:
    assert revocation_for(event) is None
