"""Configuration: traits and CLERK_* variables, and clear start-up errors naming the setting."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_clerk import ClerkIdentityProvider
from jupyter_clerk.auth.keys import JwksKeys, PemKey
from jupyter_clerk.auth.publishable_key import build_publishable_key
from jupyter_clerk.errors import ClerkConfigError
from tests.forge import ISSUER, PARTY

PK = build_publishable_key("clerk.example.com", live=True)


@pytest.fixture(autouse=True)
def no_clerk_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith("CLERK_"):
            monkeypatch.delenv(name)


def provider(**settings) -> ClerkIdentityProvider:
    settings.setdefault("authorized_parties", [PARTY])
    return ClerkIdentityProvider(**settings)


def config_error(**settings) -> str:
    with pytest.raises(ClerkConfigError) as info:
        provider(**settings)
    return str(info.value)


def test_publishable_key_alone_derives_issuer_and_frontend_jwks():
    ip = provider(publishable_key=PK)
    assert ip.verifier._issuer == "https://clerk.example.com"
    assert isinstance(ip.verifier._keys, JwksKeys)


def test_environment_variables_configure_the_provider(monkeypatch, forge):
    monkeypatch.setenv("CLERK_PUBLISHABLE_KEY", PK)
    monkeypatch.setenv("CLERK_JWT_KEY", forge.public_pem)
    monkeypatch.setenv("CLERK_AUTHORIZED_PARTIES", f"{PARTY}, https://other.example.com")
    ip = ClerkIdentityProvider()
    assert isinstance(ip.verifier._keys, PemKey)
    assert ip.authorized_parties == [PARTY, "https://other.example.com"]


def test_missing_instance_names_the_setting():
    assert "CLERK_PUBLISHABLE_KEY" in config_error(secret_key="sk_test_x")


def test_malformed_publishable_key_names_the_setting():
    message = config_error(publishable_key="pk_live_bm90LWEta2V5")
    assert "publishable_key" in message and "CLERK_PUBLISHABLE_KEY" in message


def test_empty_authorized_parties_is_refused_unless_skipped_explicitly():
    assert "authorized_parties" in config_error(publishable_key=PK, authorized_parties=[])
    ip = provider(publishable_key=PK, authorized_parties=[], skip_authorized_parties_check=True)
    assert ip.verifier._parties is None


def test_skip_and_list_of_parties_together_are_contradictory():
    assert "choose one" in config_error(publishable_key=PK, skip_authorized_parties_check=True)


@pytest.mark.parametrize("party", ["notebooks.example.com", "https://x.example.com/lab", "*"])
def test_authorized_party_must_be_an_origin(party):
    assert "not an origin" in config_error(publishable_key=PK, authorized_parties=[party])


def test_pem_and_jwks_url_together_are_contradictory(forge):
    message = config_error(
        issuer=ISSUER, jwt_key=forge.public_pem, jwks_url="https://x.example.com/jwks"
    )
    assert "CLERK_JWT_KEY" in message and "CLERK_JWKS_URL" in message


def test_unreadable_pem_names_the_setting():
    assert "jwt_key" in config_error(issuer=ISSUER, jwt_key="-----BEGIN PUBLIC KEY-----\nxx")


def test_plain_http_backend_api_off_loopback_is_refused():
    message = config_error(publishable_key=PK, secret_key="sk_live_x", api_url="http://api.x.com")
    assert "CLERK_API_URL" in message


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("jwks_url", "http://keys.example.com/.well-known/jwks.json"),
        ("issuer", "http://clerk.example.com"),
    ],
)
def test_plain_http_keys_or_issuer_off_loopback_are_refused(setting, value):
    """Whoever can change the keys on the way can sign tokens; an http issuer off loopback
    is a local instance reached over a network, which no one should trust."""
    settings = {"issuer": ISSUER, "jwks_url": "https://keys.example.com/jwks.json"}
    with pytest.raises(ClerkConfigError, match=f"{setting}.*https://"):
        provider(**{**settings, setting: value})


def test_secret_key_is_sent_only_to_the_backend_api(forge):
    ip = provider(publishable_key=PK, secret_key="sk_live_abcdefgh")
    assert isinstance(ip.verifier._keys, JwksKeys)
    fetch = ip.verifier._keys._fetch
    assert fetch.url == "https://api.clerk.com/v1/jwks"
    assert fetch.headers == {"Authorization": "Bearer sk_live_abcdefgh"}
    other = provider(
        publishable_key=PK, secret_key="sk_live_abcdefgh", jwks_url="https://elsewhere.example/j"
    )
    assert other.verifier._keys._fetch.headers == {}


def test_local_instance_must_be_asked_for_explicitly():
    local = build_publishable_key("127.0.0.1:8765")
    assert "allow_local_instance" in config_error(publishable_key=local)


def test_local_instance_says_so_loudly(caplog):
    caplog.set_level(logging.WARNING)
    provider(publishable_key=build_publishable_key("127.0.0.1:8765"), allow_local_instance=True)
    assert any("DEVELOPMENT MODE" in r.getMessage() for r in caplog.records)


def test_extension_makes_clerk_the_identity_provider(jp_serverapp):
    assert isinstance(jp_serverapp.identity_provider, ClerkIdentityProvider)
    assert jp_serverapp.allow_unauthenticated_access is False
    assert jp_serverapp.identity_provider.token == ""


def run_server(tmp_path: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CLERK_")}
    return subprocess.run(
        [sys.executable, "-m", "jupyter_server", "--ServerApp.port=0", "--no-browser", *args],
        env={**clean, "JUPYTER_CONFIG_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )


def test_server_refuses_to_start_with_bad_configuration(tmp_path):
    result = run_server(tmp_path, env={"CLERK_PUBLISHABLE_KEY": "pk_live_nonsense"})
    assert result.returncode != 0
    assert "CLERK_PUBLISHABLE_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_server_extension_list_shows_the_extension():
    result = subprocess.run(
        [sys.executable, "-m", "jupyter_server.extension.serverextension", "list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "jupyter_clerk" in result.stdout + result.stderr
    assert "enabled" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", False), ("off", False), ("No", False), ("1", True), ("on", True), ("maybe", True)],
)
def test_yes_no_settings_read_the_same_way_everywhere(monkeypatch, value, expected):
    monkeypatch.setenv("CLERK_PERSONAL_WORKSPACES", value)
    assert provider(publishable_key=PK).personal_workspaces is expected


def test_nothing_configured_is_one_error_that_says_everything_to_set():
    message = config_error(authorized_parties=[])
    for variable in ("CLERK_PUBLISHABLE_KEY", "CLERK_AUTHORIZED_PARTIES", "CLERK_SECRET_KEY"):
        assert variable in message
    assert "c.ClerkIdentityProvider.publishable_key" in message
    assert "c.ClerkIdentityProvider.authorized_parties" in message


def test_settings_are_trimmed_from_the_environment_and_from_config(monkeypatch):
    monkeypatch.setenv("CLERK_PUBLISHABLE_KEY", f"  {PK} \n")
    monkeypatch.setenv("CLERK_AUTHORIZED_PARTIES", f" {PARTY} ")
    assert ClerkIdentityProvider().verifier._issuer == "https://clerk.example.com"
    ip = provider(publishable_key=f"{PK} ", secret_key=" sk_live_abc\n")
    assert ip.secret_key == "sk_live_abc"
    assert ip.verifier._issuer == "https://clerk.example.com"


@pytest.mark.parametrize(
    "settings",
    [
        {"publishable_key": PK, "skip_authorized_parties_check": True},
        {"publishable_key": PK, "authorized_parties": []},
        {"publishable_key": build_publishable_key("127.0.0.1:8765")},
        {"publishable_key": PK, "secret_key": "sk_live_x", "api_url": "http://api.x.com"},
        {"publishable_key": PK, "authorized_parties": ["notebooks.example.com"]},
        {"publishable_key": "pk_live_bm90LWEta2V5"},
    ],
)
def test_every_start_up_error_names_the_trait_and_how_else_to_set_it(settings):
    message = config_error(**settings)
    assert "c.ClerkIdentityProvider." in message
    assert "(env CLERK_" in message or "(no environment variable" in message


def test_start_up_says_what_is_off_without_a_secret_key(caplog):
    caplog.set_level(logging.WARNING)
    provider(publishable_key=PK)
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "CLERK_SECRET_KEY" in said and "client tokens" in said and "revalidation" in said
    caplog.clear()
    provider(publishable_key=PK, secret_key="sk_live_abcdefgh")
    assert "these are off" not in " ".join(r.getMessage() for r in caplog.records)


# --- numbers that would stop the server from deep inside, or switch a protection off ------

LIVE = {"publishable_key": PK, "secret_key": "sk_live_x"}


@pytest.mark.parametrize(
    ("trait", "value"),
    [
        # Before: TokenBucket's ValueError("rate must be positive and burst at least 1")
        ("client_token_verify_rate", 0.0),
        ("client_token_verify_rate", float("inf")),  # no limit at all
        ("client_token_verify_burst", 0.5),
        # Before: BackendAPI's ValueError("timeout must be positive; ..."), naming no setting
        ("http_timeout_seconds", 0.0),
        ("http_timeout_seconds", float("nan")),
        # Before: accepted, and the caches kept nothing
        ("token_cache_size", -1),
        ("token_cache_size", 0),
        # Before: accepted, and revalidation silently never ran
        ("websocket_revalidate_seconds", -1.0),
        ("clock_skew_seconds", -5.0),
        ("jwks_refresh_cooldown_seconds", -1.0),
        ("membership_cache_seconds", -1.0),
        ("membership_stale_seconds", -1.0),
        ("profile_cache_seconds", -1.0),
    ],
)
def test_an_unusable_value_is_a_start_up_error_naming_the_trait(trait, value):
    message = config_error(**LIVE, **{trait: value})
    assert f"c.ClerkIdentityProvider.{trait} (" in message


@pytest.mark.parametrize("backoff", [0.0, -1.0, 0.5])
def test_a_webhook_backoff_that_would_stop_revalidation_is_refused(backoff):
    """0 or less made `ensure_running` never start the revalidation (a session ended while its
    webhook was lost kept its sockets for good) and every membership stale at once; less than
    1 would poll more often with webhooks than without."""
    message = config_error(**LIVE, websocket_revalidate_backoff_with_webhooks=backoff)
    assert "websocket_revalidate_backoff_with_webhooks" in message


def test_zero_still_turns_revalidation_off():
    assert provider(**LIVE, websocket_revalidate_seconds=0).revalidator.interval == 0


def test_a_negative_token_cache_size_is_a_start_up_error(monkeypatch):
    """Before, CLERK_TOKEN_CACHE_SIZE=-1 was taken (a word there was refused): the token and
    client-token caches stored nothing, so every request verified again and every client-token
    request cost a Backend API call within its small bucket."""
    monkeypatch.setenv("CLERK_TOKEN_CACHE_SIZE", "-1")
    message = config_error(**LIVE)
    assert "token_cache_size" in message and "CLERK_TOKEN_CACHE_SIZE" in message
