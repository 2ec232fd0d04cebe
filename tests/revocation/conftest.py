"""A Jupyter server that receives the local instance's Svix-signed webhooks."""

import pytest

from jupyter_clerk.devinstance.webhooks import new_webhook_secret
from tests.end_to_end.conftest import (  # noqa: F401  (fixtures)
    clerk_allowed_origins,
    clerk_config,
    jupyter_origin,
)


@pytest.fixture
def webhook_secret() -> str:
    return new_webhook_secret()


@pytest.fixture
def jp_server_config(jp_server_config, webhook_secret):
    return {**jp_server_config, "ClerkApp": {"webhook_signing_secret": webhook_secret}}


@pytest.fixture
def webhook_url(server_url: str) -> str:
    return server_url + "clerk/webhooks"


@pytest.fixture
def instance_sends_webhooks(clerk_instance, webhook_url, webhook_secret):
    clerk_instance.configure_webhooks(webhook_url, webhook_secret)
    return clerk_instance
