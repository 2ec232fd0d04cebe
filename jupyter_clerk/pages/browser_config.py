"""What the browser needs to know about the Clerk instance, and only that.

The publishable key and where the Frontend API is reached are public; the secret key never
leaves the server. The values are the same for every person, so adding them to JupyterLab's
shared page config cannot leak one person's data into another's page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from ..auth.publishable_key import parse_publishable_key
from ..errors import ClerkConfigError
from ..hosts import is_loopback_host
from ..identity.provider import ClerkIdentityProvider

PageConfigHook = Callable[[Any, dict[str, Any]], dict[str, Any]]


def browser_config(provider: ClerkIdentityProvider) -> dict[str, Any]:
    """`{publishableKey, frontendApiUrl, proxyUrl, clerkJsVersion, signInHint, localInstance}`,
    checked; empty without a key. `proxyUrl` is set when the Frontend API is configured
    somewhere other than the publishable key's host: clerk-js would call that host otherwise."""
    if not provider.publishable_key:
        return {}
    url = provider.frontend_api_url.rstrip("/")
    parsed = urlparse(url)
    local = is_loopback_host(parsed.hostname)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.path:
        raise ClerkConfigError(
            f"c.ClerkIdentityProvider.frontend_api_url (CLERK_FRONTEND_API_URL): {url!r} is "
            "not an origin like https://clerk.example.com."
        )
    if parsed.scheme == "http" and not (local and provider.allow_local_instance):
        raise ClerkConfigError(
            "c.ClerkIdentityProvider.frontend_api_url (CLERK_FRONTEND_API_URL) must be "
            "https:// (plain http only for the local instance)."
        )
    if provider.local_instance_shortcut and not (local and provider.allow_local_instance):
        raise ClerkConfigError(
            "c.ClerkIdentityProvider.local_instance_shortcut (CLERK_LOCAL_INSTANCE_SHORTCUT) "
            "is for tests against the local instance: it needs a loopback frontend_api_url "
            "and allow_local_instance (CLERK_ALLOW_LOCAL_INSTANCE=1)."
        )
    key_host = parse_publishable_key(provider.publishable_key).frontend_api
    return {
        "publishableKey": provider.publishable_key,
        "frontendApiUrl": url,
        "proxyUrl": None if url == f"https://{key_host}" else url,
        "clerkJsVersion": provider.clerk_js_version,
        "signInHint": provider.sign_in_hint,
        "localInstance": provider.local_instance_shortcut,
    }


def page_config_hook(config: dict[str, Any], previous: PageConfigHook | None) -> PageConfigHook:
    """A jupyterlab_server `page_config_hook` adding `clerk` after any hook already there."""

    def hook(handler: Any, page_config: dict[str, Any]) -> dict[str, Any]:
        if previous is not None:
            page_config = previous(handler, page_config)
        page_config["clerk"] = dict(config)
        return page_config

    return hook
