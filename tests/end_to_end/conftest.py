from __future__ import annotations

import pytest

from jupyter_clerk.devinstance import DevInstance


@pytest.fixture
def jupyter_origin(jp_http_port: int) -> str:
    return f"http://127.0.0.1:{jp_http_port}"


@pytest.fixture
def clerk_allowed_origins(jupyter_origin: str) -> list[str]:
    return [jupyter_origin]


@pytest.fixture
def clerk_config(clerk_instance: DevInstance, jupyter_origin: str) -> dict:
    """The server configured the way `make demo` configures it: keys fetched over HTTP."""
    return {
        "publishable_key": clerk_instance.publishable_key,
        "secret_key": clerk_instance.secret_key,
        "api_url": clerk_instance.api_url,
        "allow_local_instance": True,
        "authorized_parties": [jupyter_origin],
        "sign_in_url": f"{clerk_instance.url}/v1/client/handshake",
        "sign_out_url": f"{clerk_instance.url}/sign-out",
        "jwks_refresh_cooldown_seconds": 0.0,
    }
