"""What the server gives JupyterLab's front end: page config, the sign-in page, the profile."""

from __future__ import annotations

import json
import re

import pytest

from jupyter_clerk.auth.publishable_key import build_publishable_key
from jupyter_clerk.devinstance import DevInstance
from jupyter_clerk.errors import ClerkConfigError
from jupyter_clerk.identity.provider import ClerkIdentityProvider
from jupyter_clerk.pages.browser_config import browser_config
from jupyter_clerk.pages.sign_in import render_sign_in_page
from tests.devinstance.helpers import ADA, ENGINES
from tests.forge import Forge
from tests.sign_in import sign_in_config, sign_in_link


@pytest.fixture
def jp_server_config(clerk_config: dict) -> dict:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_clerk": True, "jupyterlab": True}},
        "ClerkIdentityProvider": clerk_config,
    }


def page_config(body: bytes) -> dict:
    match = re.search(
        rb'<script id="jupyter-config-data" type="application/json">(.*?)</script>', body, re.S
    )
    assert match, "no page config in the page"
    return json.loads(match.group(1))


async def test_lab_page_tells_the_front_end_about_the_instance_and_no_secret(
    clerk_instance: DevInstance, fetch
):
    session = clerk_instance.create_session(ADA, ENGINES)
    response = await fetch("lab", cookie=clerk_instance.session_token(session.id))
    assert response.code == 200
    config = page_config(response.body)
    assert config["clerk"] == {
        "publishableKey": clerk_instance.publishable_key,
        "frontendApiUrl": clerk_instance.url,
        "proxyUrl": clerk_instance.url,
        "clerkJsVersion": "6",
        "signInHint": "",
        "localInstance": True,
    }
    assert config["token"] == ""
    assert clerk_instance.secret_key.encode() not in response.body


async def test_sign_in_page_continues_to_the_local_instance_and_back(clerk_instance, fetch):
    response = await fetch("login?next=/lab/workspaces/personal")
    assert sign_in_config(response)["mode"] == "redirect"
    link = sign_in_link(response)
    assert link.startswith(f"{clerk_instance.url}/v1/client/handshake?redirect_url=")
    assert link.endswith("%2Flab%2Fworkspaces%2Fpersonal")
    assert response.headers["Cache-Control"] == "no-store"


async def test_sign_in_page_cannot_be_broken_out_of_by_next(fetch):
    response = await fetch("login?next=/lab?x=</script><script>alert(1)</script>")
    assert b"<script>alert(1)" not in response.body
    assert sign_in_config(response)["next"].endswith("/lab?x=</script><script>alert(1)</script>")


async def test_profile_comes_from_the_backend_api(clerk_instance, fetch):
    session = clerk_instance.create_session(ADA, ENGINES)
    response = await fetch("clerk/api/user", token=clerk_instance.session_token(session.id))
    assert json.loads(response.body) == {"id": ADA, "name": "Ada Lovelace", "image_url": None}


async def test_profile_needs_a_signed_in_person(fetch):
    assert (await fetch("clerk/api/user")).code == 401


@pytest.fixture
def provider(forge: Forge):
    def make(**config) -> ClerkIdentityProvider:
        return ClerkIdentityProvider(
            authorized_parties=["https://notebooks.example.com"], jwt_key=forge.public_pem, **config
        )

    return make


def test_a_real_instance_is_reached_over_https_from_its_publishable_key(provider):
    key = build_publishable_key("clerk.example.com", live=True)
    assert browser_config(provider(publishable_key=key)) == {
        "publishableKey": key,
        "frontendApiUrl": "https://clerk.example.com",
        "proxyUrl": None,
        "clerkJsVersion": "6",
        "signInHint": "",
        "localInstance": False,
    }


def test_a_frontend_api_elsewhere_than_the_key_host_is_passed_as_the_proxy_url(provider):
    key = build_publishable_key("clerk.example.com", live=True)
    config = browser_config(
        provider(publishable_key=key, frontend_api_url="https://nb.example.com/")
    )
    assert config["frontendApiUrl"] == config["proxyUrl"] == "https://nb.example.com"


def test_clerk_js_version_is_a_supported_major_or_exact_version(provider, monkeypatch):
    key = build_publishable_key("clerk.example.com", live=True)
    assert (
        browser_config(provider(publishable_key=key, clerk_js_version="5"))["clerkJsVersion"] == "5"
    )
    monkeypatch.setenv("CLERK_JS_VERSION", "6.40.0")
    assert browser_config(provider(publishable_key=key))["clerkJsVersion"] == "6.40.0"
    for bad in ("4", "latest", "6.40.0/../../x", "6;alert(1)"):
        with pytest.raises(ClerkConfigError, match=r"clerk_js_version \(env CLERK_JS_VERSION\)"):
            provider(publishable_key=key, clerk_js_version=bad)


def test_the_local_instance_shortcut_is_refused_for_a_real_instance(provider):
    key = build_publishable_key("clerk.example.com", live=True)
    with pytest.raises(ClerkConfigError, match="CLERK_LOCAL_INSTANCE_SHORTCUT"):
        browser_config(provider(publishable_key=key, local_instance_shortcut=True))


def test_plain_http_frontend_api_is_refused_unless_it_is_the_local_instance(provider):
    key = build_publishable_key("clerk.example.com", live=True)
    with pytest.raises(ClerkConfigError, match="frontend_api_url"):
        browser_config(provider(publishable_key=key, frontend_api_url="http://clerk.example.com"))


def test_clerk_sign_in_page_loads_clerk_for_a_real_instance(provider):
    key = build_publishable_key("clerk.example.com", live=True)
    page = render_sign_in_page(
        browser_config(provider(publishable_key=key)), None, "https://nb.example.com/lab"
    )
    config = json.loads(re.search(r'id="jupyter-clerk-sign-in">(.*?)</script>', page).group(1))
    assert config["mode"] == "clerk"
    assert config["frontendApiUrl"] == "https://clerk.example.com"
    assert config["next"] == "https://nb.example.com/lab"
    assert config["clerkJsVersion"] == "6" and config["proxyUrl"] is None


def test_sign_in_hint_cannot_break_out_of_the_page(provider):
    key = build_publishable_key("clerk.example.com", live=True)
    hint = "</script><script>alert(1)</script>"
    page = render_sign_in_page(
        browser_config(provider(publishable_key=key, sign_in_hint=hint)), None, "https://x/lab"
    )
    assert "<script>alert(1)" not in page
