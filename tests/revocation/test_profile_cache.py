"""`GET /clerk/api/user` costs one Backend API call per person, until a webhook says the
profile changed."""

from __future__ import annotations

import dataclasses
import json

from tornado.httpclient import AsyncHTTPClient

from jupyter_clerk.devinstance.webhooks import signed_delivery
from tests.devinstance.helpers import ADA, ENGINES, GRACE

USER = r"/v1/users/user_[A-Za-z0-9]+$"


async def profile(fetch, token: str) -> dict:
    response = await fetch("clerk/api/user", token=token)
    assert response.code == 200, response.body
    return json.loads(response.body)


async def deliver(webhook_url: str, webhook_secret: str, event: str, data: dict) -> None:
    body, headers = signed_delivery(webhook_secret, event, data)
    response = await AsyncHTTPClient().fetch(
        webhook_url, method="POST", body=body, headers=headers, raise_error=False
    )
    assert response.code == 204


async def test_page_loads_ask_clerk_once_per_person(clerk_instance, fetch):
    ada = clerk_instance.session_token(clerk_instance.create_session(ADA, ENGINES).id)
    grace = clerk_instance.session_token(clerk_instance.create_session(GRACE).id)
    for _ in range(10):
        assert (await profile(fetch, ada))["name"] == "Ada Lovelace"
        await profile(fetch, grace)
    assert clerk_instance.faults.calls_to(USER) == 2


async def test_user_updated_webhook_shows_the_new_name_on_the_next_page_load(
    clerk_instance, fetch, webhook_url, webhook_secret
):
    token = clerk_instance.session_token(clerk_instance.create_session(ADA, ENGINES).id)
    assert (await profile(fetch, token))["name"] == "Ada Lovelace"
    users = clerk_instance.data.users
    users[ADA] = dataclasses.replace(users[ADA], first_name="Augusta Ada")
    assert (await profile(fetch, token))["name"] == "Ada Lovelace"  # cached
    await deliver(webhook_url, webhook_secret, "user.updated", {"id": ADA, "object": "user"})
    assert (await profile(fetch, token))["name"] == "Augusta Ada Lovelace"
    assert clerk_instance.faults.calls_to(USER) == 2


async def test_user_deleted_webhook_drops_the_cached_profile(
    clerk_instance, fetch, webhook_url, webhook_secret, jp_serverapp
):
    token = clerk_instance.session_token(clerk_instance.create_session(ADA, ENGINES).id)
    await profile(fetch, token)
    profiles = jp_serverapp.identity_provider.profiles
    assert len(profiles._entries) == 1
    await deliver(webhook_url, webhook_secret, "user.deleted", {"id": ADA, "deleted": True})
    assert len(profiles._entries) == 0


async def test_an_outage_is_not_retried_on_every_page_load(clerk_instance, fetch):
    token = clerk_instance.session_token(clerk_instance.create_session(ADA, ENGINES).id)
    clerk_instance.faults.fail(503, times=100, path=USER)
    assert (await profile(fetch, token))["id"] == ADA  # still answers, without a name
    calls = clerk_instance.faults.calls_to(USER)  # the client's own retries included
    for _ in range(5):
        assert (await profile(fetch, token))["id"] == ADA
    assert clerk_instance.faults.calls_to(USER) == calls
