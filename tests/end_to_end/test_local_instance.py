"""The whole path against the local Clerk-compatible instance, as `make demo` runs it."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import jwt
from tornado.httpclient import AsyncHTTPClient, HTTPResponse
from websockets.asyncio.client import connect

from jupyter_clerk.devinstance import DevInstance
from tests.devinstance.helpers import ADA, ENGINES, cookie_header, set_cookies, sign_in
from tests.identity.test_websockets import run_cell, ws_base
from tests.sign_in import sign_in_link


async def get(url: str, jar: dict[str, str] | None = None, **kwargs) -> HTTPResponse:
    headers = kwargs.pop("headers", {})
    if jar:
        headers["Cookie"] = cookie_header(jar)
    return await AsyncHTTPClient().fetch(
        url, headers=headers, follow_redirects=False, raise_error=False, **kwargs
    )


async def browser_sign_in(instance: DevInstance, user_id: str, back_to: str) -> dict[str, str]:
    """Sign in on the instance's page like a browser; return the cookie jar."""
    response, jar = await sign_in(instance, user_id, redirect_url=back_to)
    assert response.code == 302 and response.headers["Location"] == back_to
    return jar


async def test_demo_sign_in_reaches_jupyter_with_the_session_cookie(clerk_instance, server_url):
    jar = await browser_sign_in(clerk_instance, ADA, server_url + "lab")
    response = await get(server_url + "api/me", jar)
    identity = json.loads(response.body)["identity"]
    assert identity["username"] == ADA
    assert identity["organization"]["id"] == ENGINES
    assert identity["organization"]["role"] == "org:admin"


async def test_instance_token_runs_a_kernel_over_websocket(clerk_instance, server_url, fetch):
    session = clerk_instance.create_session(ADA, ENGINES)
    token = clerk_instance.session_token(session.id)
    kernel = json.loads((await fetch("api/kernels", method="POST", token=token, body={})).body)
    url = f"{ws_base(server_url)}api/kernels/{kernel['id']}/channels?token={token}"
    async with connect(url) as ws:
        assert await run_cell(ws, "1+1") == "2"


async def test_rotated_signing_key_is_picked_up_from_the_jwks(clerk_instance, fetch):
    session = clerk_instance.create_session(ADA)
    before = clerk_instance.session_token(session.id)
    assert (await fetch("api/me", token=before)).code == 200
    clerk_instance.rotate_keys()
    after = clerk_instance.session_token(session.id)
    assert (await fetch("api/me", token=after)).code == 200
    assert (await fetch("api/me", token=before)).code == 200


async def test_token_of_a_retired_key_is_refused(clerk_instance, fetch):
    session = clerk_instance.create_session(ADA)
    clerk_instance.rotate_keys()
    clerk_instance.retire_old_keys()
    clerk_instance.rotate_keys()
    current = clerk_instance.session_token(session.id)
    assert (await fetch("api/me", token=current)).code == 200
    retired_kid = clerk_instance.keyring.published[0].kid
    clerk_instance.retire_old_keys()
    forged = clerk_instance.session_token(session.id, header_overrides={"kid": retired_kid})
    assert (await fetch("api/me", token=forged)).code == 401


async def test_expired_cookie_on_a_page_load_refreshes_through_the_instance(
    clerk_instance, server_url
):
    jar = await browser_sign_in(clerk_instance, ADA, server_url + "lab")
    session_id = jwt.decode(jar["__session"], options={"verify_signature": False})["sid"]
    jar["__session"] = clerk_instance.session_token(session_id, lifetime=-60)
    page = await get(server_url + "tree", jar)
    assert page.code == 302 and "/login?next=" in page.headers["Location"]
    login = await get(server_url.rstrip("/").rsplit("/", 1)[0] + page.headers["Location"], jar)
    handshake = sign_in_link(login)
    assert handshake.startswith(f"{clerk_instance.url}/v1/client/handshake?")
    refreshed = await get(handshake, jar)
    assert refreshed.code == 302
    assert urlsplit(refreshed.headers["Location"]).path.endswith("/tree")
    jar.update({name: m.value for name, m in set_cookies(refreshed).items()})
    assert (await get(server_url + "api/me", jar)).code == 200


async def test_logout_signs_out_of_the_instance_too(clerk_instance, server_url):
    jar = await browser_sign_in(clerk_instance, ADA, server_url + "lab")
    response = await get(server_url + "logout", jar)
    sign_out = urlsplit(response.headers["Location"])
    assert f"{sign_out.scheme}://{sign_out.netloc}{sign_out.path}" == (
        f"{clerk_instance.url}/sign-out"
    )
    assert parse_qs(sign_out.query)["redirect_url"][0].endswith("/login")
