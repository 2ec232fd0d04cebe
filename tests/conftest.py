from __future__ import annotations

import pytest

from tests.forge import ISSUER, PARTY, Forge

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture(scope="session")
def forge() -> Forge:
    return Forge()


@pytest.fixture
def clerk_config(forge: Forge) -> dict:
    """A Clerk instance known by its PEM key: verification with no network at all."""
    return {"jwt_key": forge.public_pem, "issuer": ISSUER, "authorized_parties": [PARTY]}


@pytest.fixture
def jp_server_config(clerk_config: dict) -> dict:
    # jp_environ hides installed config.d files: the extension is enabled here explicitly.
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_clerk": True}},
        "ClerkIdentityProvider": clerk_config,
    }


@pytest.fixture
def jp_auth_header(forge: Forge) -> dict[str, str]:
    return {"Authorization": f"Bearer {forge.token()}"}
