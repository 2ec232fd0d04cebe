"""The Hub's webhook service: a delivery it could not pass on is retried, not lost."""

from __future__ import annotations

import socket

from tornado.httpclient import AsyncHTTPClient
from tornado.httpserver import HTTPServer

from jupyter_clerk.devinstance.webhooks import new_webhook_secret, signed_delivery
from jupyter_clerk.hub.webhook_service import make_app


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
