"""Publishable keys parse the way Clerk's SDKs parse them; anything else is refused."""

from __future__ import annotations

import pytest

from jupyter_clerk.auth.publishable_key import (
    PublishableKeyError,
    account_portal_sign_in_url,
    build_publishable_key,
    parse_publishable_key,
)


def test_clerk_development_key_parses_to_its_frontend_api():
    key = parse_publishable_key("pk_test_ZmFzdC1iZWV0bGUtMjQuY2xlcmsuYWNjb3VudHMuZGV2JA")
    assert key.frontend_api == "fast-beetle-24.clerk.accounts.dev"
    assert key.instance_type == "development"
    assert key.issuer == "https://fast-beetle-24.clerk.accounts.dev"


def test_live_key_round_trips():
    key = parse_publishable_key(build_publishable_key("clerk.example.com", live=True))
    assert (key.instance_type, key.frontend_api) == ("production", "clerk.example.com")


@pytest.mark.parametrize(
    "key",
    [
        "",
        "sk_test_abc",
        "pk_test_",
        "pk_test_!!!!",
        build_publishable_key("clerk.example.com")[:-3],
        "pk_test_" + "ZXhhbXBsZS5jb20",  # no trailing $
        build_publishable_key("a$b.example.com"),
        build_publishable_key("nodot"),
        build_publishable_key("evil.example.com/path"),
    ],
)
def test_malformed_publishable_keys_are_refused(key):
    with pytest.raises(PublishableKeyError):
        parse_publishable_key(key)


def test_account_portal_is_derived_from_the_frontend_api():
    assert account_portal_sign_in_url("fast-beetle-24.clerk.accounts.dev") == (
        "https://fast-beetle-24.accounts.dev/sign-in"
    )
    assert account_portal_sign_in_url("clerk.example.com") == (
        "https://accounts.example.com/sign-in"
    )
    assert account_portal_sign_in_url("127.0.0.1:8765") is None
