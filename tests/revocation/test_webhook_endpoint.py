"""`POST /clerk/webhooks`: only genuine, fresh, first-time Svix deliveries are acted on."""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone

import pytest
from standardwebhooks.webhooks import Webhook
from tornado.httpclient import AsyncHTTPClient

from jupyter_clerk.devinstance.webhooks import new_webhook_secret, signed_delivery
from tests.devinstance.helpers import ADA


async def post(url: str, body: str, headers: dict[str, str]):
    return await AsyncHTTPClient().fetch(
        url, method="POST", body=body, headers=headers, raise_error=False
    )


def revoked(session_id: str) -> dict:
    return {"id": session_id, "user_id": ADA, "object": "session", "status": "revoked"}


async def test_genuine_delivery_revokes_the_session(
    clerk_instance, fetch, webhook_url, webhook_secret
):
    session = clerk_instance.create_session(ADA)
    token = clerk_instance.session_token(session.id)
    assert (await fetch("api/me", token=token)).code == 200
    body, headers = signed_delivery(webhook_secret, "session.revoked", revoked(session.id))
    assert (await post(webhook_url, body, headers)).code == 204
    assert (await fetch("api/me", token=token)).code == 401


@pytest.mark.parametrize("tamper", ["body", "secret", "no_signature", "no_id", "no_timestamp"])
async def test_forged_delivery_is_refused_and_changes_nothing(
    clerk_instance, fetch, webhook_url, webhook_secret, tamper
):
    session = clerk_instance.create_session(ADA)
    token = clerk_instance.session_token(session.id)
    secret = new_webhook_secret() if tamper == "secret" else webhook_secret
    body, headers = signed_delivery(secret, "session.revoked", revoked("sess_someoneElse"))
    if tamper == "body":
        body = json.dumps({"type": "session.revoked", "data": revoked(session.id)})
    else:
        body = body.replace("sess_someoneElse", session.id) if tamper != "secret" else body
    header = {"no_signature": "svix-signature", "no_id": "svix-id"}.get(tamper)
    header = header or ("svix-timestamp" if tamper == "no_timestamp" else None)
    if header:
        headers.pop(header)
    if tamper == "secret":
        body = body.replace("sess_someoneElse", session.id)
        headers["svix-signature"] = Webhook(secret).sign(
            headers["svix-id"],
            datetime.fromtimestamp(int(headers["svix-timestamp"]), tz=timezone.utc),
            body,
        )
    assert (await post(webhook_url, body, headers)).code == 400
    assert (await fetch("api/me", token=token)).code == 200


async def test_stale_delivery_is_refused(clerk_instance, fetch, webhook_url, webhook_secret):
    session = clerk_instance.create_session(ADA)
    token = clerk_instance.session_token(session.id)
    then = datetime.fromtimestamp(time.time() - 6 * 60, tz=timezone.utc)
    body = json.dumps({"type": "session.revoked", "data": revoked(session.id)})
    headers = {
        "svix-id": "msg_stale",
        "svix-timestamp": str(int(then.timestamp())),
        "svix-signature": Webhook(webhook_secret).sign("msg_stale", then, body),
    }
    assert (await post(webhook_url, body, headers)).code == 400
    assert (await fetch("api/me", token=token)).code == 200


async def test_replayed_delivery_is_refused(webhook_url, webhook_secret):
    body, headers = signed_delivery(webhook_secret, "session.ended", revoked("sess_replayed"))
    assert (await post(webhook_url, body, headers)).code == 204
    assert (await post(webhook_url, body, headers)).code == 400


async def test_webhooks_leave_no_secret_or_body_in_logs(
    clerk_instance, webhook_url, webhook_secret, caplog
):
    caplog.set_level(logging.DEBUG)
    session = clerk_instance.create_session(ADA)
    token = clerk_instance.session_token(session.id)
    body, headers = signed_delivery(webhook_secret, "session.revoked", revoked(session.id))
    await post(webhook_url, body, headers)
    forged = dict(headers, **{"svix-signature": "v1,AAAA"})
    response = await post(webhook_url, body, forged)
    for secret in (webhook_secret, webhook_secret.removeprefix("whsec_"), token):
        assert secret not in caplog.text
        assert secret.encode() not in response.body


class TestWithoutSecret:
    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        return {**jp_server_config, "ClerkApp": {}}

    async def test_no_secret_means_no_endpoint(self, webhook_url, webhook_secret):
        body, headers = signed_delivery(webhook_secret, "session.ended", revoked("sess_x"))
        assert (await post(webhook_url, body, headers)).code in (401, 403, 404)
