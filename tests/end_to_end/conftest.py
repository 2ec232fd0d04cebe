from __future__ import annotations

import json
from pathlib import Path

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
        "frontend_api_url": clerk_instance.url,
        # These tests sign in over plain HTTP without a browser, so without clerk-js: the
        # local instance's shortcut (its sign-in page, handshake and token endpoint).
        "local_instance_shortcut": True,
        "jwks_refresh_cooldown_seconds": 0.0,
    }


class Tab:
    """One browser tab's worth of API access: a person, their token, the workspace asked for."""

    def __init__(self, fetch, token: str, workspace: str | None = None) -> None:
        self._fetch = fetch
        self.token = token
        self.workspace = workspace

    async def call(self, method: str, path: str, body=None, headers=None):
        all_headers = dict(headers or {})
        if self.workspace:
            all_headers["X-Clerk-Workspace"] = self.workspace
        response = await self._fetch(
            path, method=method, token=self.token, body=body, headers=all_headers
        )
        try:
            payload = json.loads(response.body) if response.body else None
        except ValueError:
            payload = response.body
        return response.code, payload

    async def get(self, path: str, **kw):
        return await self.call("GET", path, **kw)

    async def post(self, path: str, body=None, **kw):
        return await self.call("POST", path, body={} if body is None else body, **kw)

    async def put(self, path: str, body, **kw):
        return await self.call("PUT", path, body=body, **kw)

    async def patch(self, path: str, body, **kw):
        return await self.call("PATCH", path, body=body, **kw)

    async def delete(self, path: str, **kw):
        return await self.call("DELETE", path, **kw)


@pytest.fixture
def tab(clerk_instance: DevInstance, fetch):
    """`tab(user, token_org=None, workspace=None)`: a signed-in tab of a demo person."""

    def make(user_id: str, token_org: str | None = None, workspace: str | None = None) -> Tab:
        session = clerk_instance.create_session(user_id, token_org)
        return Tab(fetch, clerk_instance.session_token(session.id), workspace)

    return make


@pytest.fixture
def root(jp_root_dir) -> Path:
    return Path(jp_root_dir).resolve()
