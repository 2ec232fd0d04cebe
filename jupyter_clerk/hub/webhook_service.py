"""Clerk's webhook endpoint as a Hub service: `python -m jupyter_clerk.hub.webhook_service`.

Clerk sends its webhooks (through Svix) to `<hub>/services/clerk-webhooks/webhooks`. No Hub
credential comes with them: the Svix signature is the authentication, checked by the
project's `WebhookVerifier` (signature, freshness, replay). Each verified event that concerns
access is forwarded to the Hub's revocation endpoint with this service's Hub token; the
service holds the signing secret and nothing else of Clerk's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from typing import Any
from urllib.parse import urlparse

from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from ..auth.claims import ORG_ID, SESSION_ID, USER_ID, valid_id
from ..revocation.webhooks import SignedWebhookHandler, WebhookVerifier

log = logging.getLogger("jupyter_clerk.hub.webhooks")

_SESSION_EVENTS = {"session.revoked", "session.ended", "session.removed"}
# The role in an update is not forwarded: the Hub asks Clerk for the membership as it is now.
_MEMBERSHIP_EVENTS = {
    "organizationMembership.deleted": "membership",
    "organizationMembership.updated": "role",
}


def revocation_for(event: dict[str, Any]) -> dict[str, str] | None:
    """The Hub revocation a Clerk event calls for (None: nothing to revoke)."""
    kind, data = event.get("type"), event.get("data")
    if not isinstance(data, dict):
        return None
    if (
        kind in _SESSION_EVENTS
        and valid_id(SESSION_ID, data.get("id"))
        and valid_id(USER_ID, data.get("user_id"))
    ):
        return {"kind": "session", "user": data["user_id"], "session": data["id"]}
    if kind == "user.deleted" and valid_id(USER_ID, data.get("id")):
        return {"kind": "user", "user": data["id"]}
    if kind in _MEMBERSHIP_EVENTS:
        org, user = data.get("organization"), data.get("public_user_data")
        org = org if isinstance(org, dict) else {}
        user = user if isinstance(user, dict) else {}
        if valid_id(ORG_ID, org.get("id")) and valid_id(USER_ID, user.get("user_id")):
            return {"kind": _MEMBERSHIP_EVENTS[kind], "user": user["user_id"], "org": org["id"]}
    if kind == "organization.deleted" and valid_id(ORG_ID, data.get("id")):
        return {"kind": "organization", "org": data["id"]}
    return None


class HubClient:
    """This service's calls to the Hub's revocation endpoint."""

    def __init__(self, api_url: str, token: str) -> None:
        self.url = api_url.rstrip("/") + "/clerk/revocations"
        self._token = token

    async def revoke(self, revocation: dict[str, str]) -> dict[str, Any]:
        request = HTTPRequest(
            self.url,
            method="POST",
            headers={"Authorization": f"token {self._token}", "Content-Type": "application/json"},
            body=json.dumps(revocation),
            request_timeout=30,
            follow_redirects=False,
        )
        response = await AsyncHTTPClient().fetch(request)
        return json.loads(response.body)


class WebhookHandler(SignedWebhookHandler):
    """Forwards what Clerk revoked to the Hub."""

    def initialize(self, verifier: WebhookVerifier, hub: HubClient) -> None:  # type: ignore[override]
        super().initialize(verifier)
        self.hub = hub

    async def act(self, event: dict[str, Any]) -> str:
        revocation = revocation_for(event)
        if revocation is None:
            return "ignored"
        return str(await self.hub.revoke(revocation))


def make_app(secret: str, api_url: str, token: str, prefix: str) -> web.Application:
    verifier = WebhookVerifier(secret)
    hub = HubClient(api_url, token)
    return web.Application(
        [(prefix.rstrip("/") + "/webhooks", WebhookHandler, {"verifier": verifier, "hub": hub})]
    )


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    secret = os.environ.get("CLERK_WEBHOOK_SIGNING_SECRET", "")
    if not secret:
        raise SystemExit("Set CLERK_WEBHOOK_SIGNING_SECRET for the clerk-webhooks service.")
    try:
        app = make_app(
            secret,
            os.environ["JUPYTERHUB_API_URL"],
            os.environ["JUPYTERHUB_API_TOKEN"],
            os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/"),
        )
    except KeyError as exc:
        raise SystemExit(f"Run as a JupyterHub service: ${exc.args[0]} is not set.") from None
    except ValueError as exc:
        raise SystemExit(f"CLERK_WEBHOOK_SIGNING_SECRET: {exc}") from None
    url = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    app.listen(url.port or 80, os.environ.get("CLERK_WEBHOOK_BIND_IP") or url.hostname or "")
    with contextlib.suppress(KeyboardInterrupt):  # how the Hub stops its services
        asyncio.get_event_loop().run_forever()


if __name__ == "__main__":
    main()
