"""Review of issue 15: scale settings that stop the server with a bare traceback, or that
silently switch a protection off, instead of a start-up error naming the trait.

The bar: "clear start-up errors naming both the trait and the variable".
"""

from __future__ import annotations

import pytest

from jupyter_clerk.errors import ClerkConfigError
from tests.identity.test_configuration import PK, no_clerk_environment, provider  # noqa: F401

LIVE = {"publishable_key": PK, "secret_key": "sk_live_x"}


@pytest.mark.parametrize(
    ("trait", "value"),
    [
        # TokenBucket: ValueError("rate must be positive and burst at least 1"), no trait named
        ("client_token_verify_rate", 0.0),
        ("client_token_verify_burst", 0.5),
        # BackendAPI: ValueError("timeout must be positive; ..."), no trait named
        ("http_timeout_seconds", 0.0),
    ],
)
def test_an_unusable_value_is_a_start_up_error_naming_the_trait(trait, value):
    """Fails today: a ValueError traceback from deep inside, which names no setting."""
    with pytest.raises(ClerkConfigError) as info:
        provider(**LIVE, **{trait: value})
    assert trait in str(info.value)


@pytest.mark.parametrize("backoff", [0.0, -1.0])
def test_a_webhook_backoff_that_would_stop_revalidation_is_refused(backoff):
    """Fails today: accepted. With webhooks configured, `webhooks_configured` multiplies the
    revalidation interval by it (0 or less: `ensure_running` never starts, so a session
    ended while a webhook was lost keeps its sockets for good) and the membership TTL
    (0: every request's membership is already stale)."""
    with pytest.raises(ClerkConfigError) as info:
        provider(**LIVE, websocket_revalidate_backoff_with_webhooks=backoff)
    assert "websocket_revalidate_backoff_with_webhooks" in str(info.value)


def test_a_negative_token_cache_size_is_a_start_up_error(monkeypatch):
    """Fails today: CLERK_TOKEN_CACHE_SIZE=-1 is taken (a word there is refused), and the
    token and client-token caches silently store nothing: every request verifies again and
    every client-token request costs a Backend API call within its small bucket."""
    monkeypatch.setenv("CLERK_TOKEN_CACHE_SIZE", "-1")
    with pytest.raises(ClerkConfigError) as info:
        provider(**LIVE)
    assert "CLERK_TOKEN_CACHE_SIZE" in str(info.value)
