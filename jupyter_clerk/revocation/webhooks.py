"""`POST /clerk/webhooks`: Clerk's webhooks (sent through Svix) → revocation.

No Clerk credential comes with a webhook; the Svix signature is the authentication. It is
checked with `standardwebhooks`, the reference implementation of the scheme Svix signs with
(Svix's own `svix` package delegates to it, and would add an HTTP client and pydantic for
nothing): HMAC-SHA256 over `id.timestamp.body` with the `whsec_` secret, constant-time
comparison, and timestamps more than 5 minutes off refused. On top of it, each message id is
accepted once, so a captured webhook cannot be replayed within that window.
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from jupyter_server.auth.decorator import allow_unauthenticated
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from tornado import web

from ..auth.claims import ORG_ID, SESSION_ID, USER_ID, valid_id
from .denylist import Revocation

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
TOLERANCE_SECONDS = 5 * 60
_SESSION_EVENTS = {"session.revoked", "session.ended", "session.removed"}
_MEMBERSHIP_EVENTS = {
    "organizationMembership.created",
    "organizationMembership.deleted",
    "organizationMembership.updated",
}


class WebhookRefused(Exception):
    """Not a genuine, fresh, first-time webhook from Clerk."""


class WebhookVerifier:
    """Svix signatures, freshness and replay, for one signing secret."""

    def __init__(
        self, secret: str, *, max_ids: int = 10_000, clock: Callable[[], float] = time.time
    ) -> None:
        if not secret.startswith("whsec_"):
            raise ValueError("a Clerk webhook signing secret starts with whsec_")
        try:
            self._webhook = Webhook(secret)
        except Exception:  # the library's errors may quote the secret: never pass them on
            raise ValueError("the webhook signing secret is not valid base64") from None
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._max_ids = max_ids
        self._clock = clock

    def __repr__(self) -> str:
        return "WebhookVerifier(secret=<redacted>)"

    def verify(self, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        msg_id = headers.get("svix-id", "")
        timestamp = headers.get("svix-timestamp", "")
        signature = headers.get("svix-signature", "")
        if not (msg_id and timestamp and signature) or len(msg_id) > 128:
            raise WebhookRefused("missing Svix headers")
        try:
            payload = self._webhook.verify(
                body,
                {
                    "webhook-id": msg_id,
                    "webhook-timestamp": timestamp,
                    "webhook-signature": signature,
                },
            )
        except (WebhookVerificationError, ValueError, TypeError):
            raise WebhookRefused("bad signature or stale timestamp") from None
        self._remember(msg_id)
        if not isinstance(payload, dict):
            raise WebhookRefused("the body is not a JSON object")
        return payload

    def forget(self, headers: dict[str, str]) -> None:
        """Lets a delivery that could not be acted on be retried (Svix retries with its id)."""
        self._seen.pop(headers.get("svix-id", ""), None)

    def _remember(self, msg_id: str) -> None:
        now = self._clock()
        while self._seen and next(iter(self._seen.values())) < now - 2 * TOLERANCE_SECONDS:
            self._seen.popitem(last=False)
        if msg_id in self._seen:
            raise WebhookRefused("replayed message id")
        self._seen[msg_id] = now
        while len(self._seen) > self._max_ids:
            self._seen.popitem(last=False)


async def apply_event(
    revocation: Revocation, event: dict[str, Any], kernel_manager: Any | None
) -> str:
    """Act on one verified event; returns what was done, for the log."""
    kind, data = event.get("type"), event.get("data")
    if not isinstance(data, dict):
        return "ignored (no data)"
    if kind in _SESSION_EVENTS and valid_id(SESSION_ID, data.get("id")):
        status = str(kind).partition(".")[2]
        return f"closed {revocation.session_ended(data['id'], status)} socket(s)"
    if kind == "user.updated" and valid_id(USER_ID, data.get("id")):
        revocation.user_updated(data["id"])
        return "forgot the cached profile"
    if kind == "user.deleted" and valid_id(USER_ID, data.get("id")):
        return f"closed {await revocation.user_deleted(data['id'], kernel_manager)} socket(s)"
    if kind in _MEMBERSHIP_EVENTS:
        org = data.get("organization") if isinstance(data.get("organization"), dict) else {}
        user = data.get("public_user_data")
        user = user if isinstance(user, dict) else {}
        if valid_id(ORG_ID, org.get("id")) and valid_id(USER_ID, user.get("user_id")):
            if kind == "organizationMembership.created":
                revocation.membership_added(user["user_id"])
                return "forgot the cached memberships"
            if kind == "organizationMembership.deleted":
                closed = revocation.membership_removed(user["user_id"], org["id"])
            else:  # updated: only the payload's ids are used; Clerk is asked for the role
                closed = await revocation.membership_changed(user["user_id"], org["id"])
            return f"closed {closed} socket(s)"
    if kind == "organization.deleted" and valid_id(ORG_ID, data.get("id")):
        return f"closed {revocation.organization_deleted(data['id'])} socket(s)"
    return "ignored"


class SignedWebhookHandler(web.RequestHandler):
    """A Svix-signed Clerk webhook: no cookie, no XSRF, no user; `act` does the work.

    A delivery that verifies but cannot be acted on answers 503 and is forgotten, so that
    Clerk's retry (same message id) is not refused as a replay."""

    def initialize(self, verifier: WebhookVerifier) -> None:
        self.verifier = verifier

    def check_xsrf_cookie(self) -> None:
        return  # authenticated by its signature, which a cross-site form cannot make

    async def act(self, event: dict[str, Any]) -> str:
        raise NotImplementedError

    @allow_unauthenticated
    async def post(self) -> None:
        if len(self.request.body) > MAX_BODY_BYTES:
            raise web.HTTPError(413)
        headers = {k.lower(): v for k, v in self.request.headers.items()}
        try:
            event = self.verifier.verify(self.request.body, headers)
        except WebhookRefused as exc:
            log.warning("Refused a Clerk webhook: %s", exc)
            raise web.HTTPError(400) from None
        kind = json.dumps(event.get("type"))  # quoted: the sender chose it
        try:
            outcome = await self.act(event)
        except Exception as exc:
            self.verifier.forget(headers)
            log.warning("Clerk webhook %s not acted on (%s): Clerk will retry", kind, exc)
            raise web.HTTPError(503) from None
        log.info("Clerk webhook %s: %s", kind, outcome)
        self.set_status(204)


class ClerkWebhookHandler(SignedWebhookHandler):
    """Receives Clerk webhooks for this server's revocation."""

    async def act(self, event: dict[str, Any]) -> str:
        revocation = getattr(self.settings.get("identity_provider"), "revocation", None)
        if revocation is None:
            raise RuntimeError("no revocation on this server")
        return await apply_event(revocation, event, self.settings.get("kernel_manager"))
