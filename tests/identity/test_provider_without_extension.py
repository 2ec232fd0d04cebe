"""Setting identity_provider_class alone (no extension) is enough to accept Clerk tokens."""

from __future__ import annotations

import pytest


@pytest.fixture
def jp_server_config(clerk_config: dict) -> dict:
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_clerk": False},
            "identity_provider_class": "jupyter_clerk.ClerkIdentityProvider",
        },
        "ClerkIdentityProvider": clerk_config,
    }


async def test_provider_class_alone_accepts_clerk_tokens(fetch, token_for):
    assert (await fetch("api/contents", token=token_for())).code == 200
    assert (await fetch("api/contents")).code == 401
