"""Clerk's own Python Backend SDK parses every response: proof the shapes are Clerk's."""

import pytest

from jupyter_clerk.devinstance import DevInstance

from .helpers import ADA, ENGINES, GRACE

clerk_backend_api = pytest.importorskip("clerk_backend_api")


def sdk(instance: DevInstance):
    # The SDK's server URL includes the API version, like https://api.clerk.com/v1.
    return clerk_backend_api.Clerk(
        bearer_auth=instance.secret_key, server_url=instance.api_url + "/v1"
    )


async def test_clerk_sdk_reads_users_and_memberships(clerk_instance: DevInstance) -> None:
    clerk = sdk(clerk_instance)
    user = await clerk.users.get_async(user_id=ADA)
    assert user.id == ADA and user.email_addresses[0].email_address == "ada@example.com"
    page = await clerk.users.get_organization_memberships_async(user_id=ADA, limit=1, offset=0)
    assert page.total_count == 2
    assert page.data[0].organization.id == ENGINES and page.data[0].role == "org:admin"


async def test_clerk_sdk_drives_sessions_tokens_and_clients(clerk_instance: DevInstance) -> None:
    clerk = sdk(clerk_instance)
    session = await clerk.sessions.create_async(request={"user_id": GRACE})
    assert (await clerk.sessions.get_async(session_id=session.id)).status.value == "active"
    token = await clerk.sessions.create_token_async(session_id=session.id, expires_in_seconds=30)
    assert token.jwt.count(".") == 2
    client_token = clerk_instance.client_token(session.client_id)
    client = await clerk.clients.verify_async(request={"token": client_token})
    assert client.last_active_session_id == session.id
    revoked = await clerk.sessions.revoke_async(session_id=session.id)
    assert revoked.status.value == "revoked"
    jwks = await clerk.jwks.get_jwks_async()
    assert jwks.keys[0].kid == clerk_instance.keyring.current.kid


async def test_clerk_sdk_sees_clerk_errors(clerk_instance: DevInstance) -> None:
    clerk = sdk(clerk_instance)
    with pytest.raises(clerk_backend_api.models.ClerkErrors) as info:
        await clerk.users.get_async(user_id="user_nobody")
    assert info.value.data.errors[0].code == "resource_not_found"
