from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPResponse

from tests.forge import ISSUER, PARTY, Forge

pytest_plugins = ["pytest_jupyter.jupyter_server", "tests.fixtures_devinstance"]


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


Fetch = Callable[..., Awaitable[HTTPResponse]]


@pytest.fixture
def server_url(http_server, jp_http_port: int, jp_base_url: str) -> str:
    return f"http://127.0.0.1:{jp_http_port}{jp_base_url}"


@pytest.fixture
def token_for(forge: Forge) -> Callable[..., str]:
    def make(user: str = "user_2aForgedUser", **claims: Any) -> str:
        session = claims.pop("sid", f"sess_{user.removeprefix('user_')}")
        return forge.token(forge.claims(sub=user, sid=session, **claims))

    return make


@pytest.fixture
def fetch(server_url: str) -> Fetch:
    """Real HTTP on loopback, no redirects followed, errors returned rather than raised."""

    async def do(
        path: str,
        *,
        token: str | None = None,
        cookie: str | None = None,
        headers: dict[str, str] | None = None,
        method: str = "GET",
        body: Any = None,
    ) -> HTTPResponse:
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        if cookie:
            all_headers["Cookie"] = f"__session={cookie}"
        if body is not None and not isinstance(body, str | bytes):
            body = json.dumps(body)
        return await AsyncHTTPClient().fetch(
            server_url + path.lstrip("/"),
            method=method,
            headers=all_headers,
            body=body,
            follow_redirects=False,
            raise_error=False,
            allow_nonstandard_methods=True,
        )

    return do
