"""Webhooks as Clerk sends them through Svix: a Clerk event body, signed with a `whsec_` secret
in the `svix-id`, `svix-timestamp` and `svix-signature` headers.

Signing uses `standardwebhooks`, the scheme's reference implementation, so what the instance
sends is exactly what a real Svix endpoint would verify. Delivery is fire-and-forget on the
running loop, as Svix's is asynchronous; `drain()` waits for the deliveries under way.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
from datetime import datetime, timezone
from typing import Any

from standardwebhooks.webhooks import Webhook
from tornado.httpclient import AsyncHTTPClient

from .ids import new_id
from .state import now_ms

log = logging.getLogger(__name__)


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def signed_delivery(secret: str, event_type: str, data: dict[str, Any]) -> tuple[str, dict]:
    """The body and headers of one delivery of a Clerk event."""
    body = json.dumps(
        {
            "data": data,
            "object": "event",
            "type": event_type,
            "timestamp": now_ms(),
            "instance_id": "ins_devinstance",
        }
    )
    msg_id = new_id("msg")
    now = datetime.now(tz=timezone.utc)
    headers = {
        "svix-id": msg_id,
        "svix-timestamp": str(int(now.timestamp())),
        "svix-signature": Webhook(secret).sign(msg_id, now, body),
        "Content-Type": "application/json",
    }
    return body, headers


class WebhookSender:
    """Posts signed events to one endpoint."""

    def __init__(self, url: str, secret: str) -> None:
        self.url = url
        self.secret = secret
        self._pending: set[asyncio.Future[None]] = set()
        self.delivered: list[tuple[str, int]] = []  # (event type, HTTP status)

    def __repr__(self) -> str:
        return f"WebhookSender({self.url!r}, secret=<redacted>)"

    def send(self, event_type: str, data: dict[str, Any]) -> None:
        future = asyncio.ensure_future(self._deliver(event_type, data))
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    async def drain(self) -> None:
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def _deliver(self, event_type: str, data: dict[str, Any]) -> None:
        body, headers = signed_delivery(self.secret, event_type, data)
        try:
            response = await AsyncHTTPClient().fetch(
                self.url, method="POST", body=body, headers=headers, raise_error=False
            )
            status = response.code
        except OSError:
            status = 599
        self.delivered.append((event_type, status))
        log.info("webhook %s -> %s", event_type, status)
