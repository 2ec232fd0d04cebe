"""What `jupyter clerk check` checks: a configuration against the Clerk instance it names.

Each check returns findings (ok, warning or problem) in plain words; none raises for an
expected failure, so the command prints every finding instead of stopping at the first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlparse

from ..app import ClerkApp
from ..auth.keys import JwksKeys, PemKey
from ..auth.publishable_key import parse_publishable_key
from ..clerk_api.client import BackendAPI, BackendAPIError, NotFound, Unauthorized
from ..errors import ClerkConfigError
from ..identity.provider import ClerkIdentityProvider
from ..identity.settings import setting
from ..revocation.webhooks import WebhookVerifier

Status = Literal["ok", "warning", "problem", "off", "on"]
# A syntactically valid user id nobody has: a 404 for it proves the secret key was accepted.
_PROBE_USER = "user_jupyterclerkcheckprobe"


@dataclass(frozen=True)
class Finding:
    status: Status
    subject: str
    detail: str


def provider_or_finding(config: object) -> ClerkIdentityProvider | Finding:
    """The provider exactly as the server would build it, or why it would not start."""
    try:
        return ClerkIdentityProvider(config=config)
    except ClerkConfigError as exc:
        return Finding("problem", "configuration", str(exc))


def key_findings(provider: ClerkIdentityProvider) -> Iterator[Finding]:
    """The keys decode and belong together."""
    instance = None
    if provider.publishable_key:
        instance = parse_publishable_key(provider.publishable_key)  # checked at construction
        yield Finding(
            "ok",
            "publishable key",
            f"{instance.instance_type} instance, Frontend API {instance.frontend_api}",
        )
    if provider.secret_key:
        prefix = provider.secret_key[:8]
        if prefix not in ("sk_test_", "sk_live_"):
            yield Finding("problem", "secret key", f"{setting('secret_key')} must start sk_…")
        elif instance and (prefix == "sk_live_") != (instance.instance_type == "production"):
            yield Finding(
                "problem",
                "secret key",
                f"a {prefix}… key with a {instance.instance_type} publishable key: "
                "they come from different instances",
            )
        else:
            yield Finding("ok", "secret key", f"{prefix}… (shown no further)")
    if provider.jwt_key:
        PemKey(provider.jwt_key)  # checked at construction
        yield Finding("ok", "PEM public key", "decodes; tokens are verified with no network")


def issuer_findings(provider: ClerkIdentityProvider) -> Iterator[Finding]:
    """Issuer, Frontend API and authorized parties tell one consistent story."""
    issuer = provider.verifier.issuer
    yield Finding("ok", "issuer", issuer)
    if provider.publishable_key:
        derived = parse_publishable_key(provider.publishable_key).issuer
        if provider.issuer and provider.issuer != derived:
            yield Finding(
                "problem",
                "issuer",
                f"{setting('issuer')} is {provider.issuer}, but the publishable key's "
                f"instance issues tokens as {derived}",
            )
    frontend_host = urlparse(provider.frontend_api_url).hostname
    if frontend_host and frontend_host != urlparse(issuer).hostname:
        yield Finding(
            "warning",
            "Frontend API",
            f"browsers reach {provider.frontend_api_url}, whose host is not the issuer's: "
            "right only behind a proxy (Clerk's proxy URL)",
        )
    parties = provider.verifier.authorized_parties
    if parties is None:
        yield Finding("warning", "authorized parties", "not checked: any origin's tokens pass")
        return
    for party in parties:
        parsed = urlparse(party)
        if parsed.scheme == "http" and parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
            yield Finding(
                "warning", "authorized parties", f"{party} is plain http: tokens travel in clear"
            )
    yield Finding("ok", "authorized parties", ", ".join(parties))


async def jwks_finding(provider: ClerkIdentityProvider) -> Finding:
    keys = provider.verifier.keys
    if not isinstance(keys, JwksKeys):
        return Finding("ok", "signing keys", "a PEM key from configuration (no JWKS needed)")
    try:
        count = await keys.fetch_now()
    except Exception as exc:  # any failure is a finding; its text never carries the secret
        return Finding("problem", "JWKS", f"{keys.url} could not be read: {type(exc).__name__}")
    return Finding("ok", "JWKS", f"{count} key(s) from {keys.url}")


async def backend_api_finding(provider: ClerkIdentityProvider) -> Finding:
    if provider.backend_api is None:
        return Finding("off", "Backend API", f"no secret key ({setting('secret_key')})")
    api = BackendAPI(provider.backend_api.api_url, provider.secret_key, max_retries=0)
    try:
        await api.get_user(_PROBE_USER)
    except NotFound:
        return Finding("ok", "Backend API", f"{api.api_url} accepts the secret key")
    except Unauthorized:
        return Finding("problem", "Backend API", f"{api.api_url} refuses the secret key (401)")
    except BackendAPIError as exc:
        return Finding("problem", "Backend API", f"{api.api_url}: {exc.code} ({exc.status})")
    return Finding("ok", "Backend API", f"{api.api_url} accepts the secret key")


def webhook_finding(app: ClerkApp) -> Finding:
    secret = app.webhook_signing_secret
    if not secret:
        return Finding(
            "off",
            "webhooks",
            "no signing secret (c.ClerkApp.webhook_signing_secret, env "
            "CLERK_WEBHOOK_SIGNING_SECRET): revoked sessions close open WebSockets only at the "
            "next revalidation",
        )
    try:
        WebhookVerifier(secret)
    except ValueError as exc:
        return Finding("problem", "webhooks", f"CLERK_WEBHOOK_SIGNING_SECRET: {exc}")
    return Finding("ok", "webhooks", "signing secret well formed; /clerk/webhooks is served")


def feature_findings(provider: ClerkIdentityProvider, app: ClerkApp) -> Iterator[Finding]:
    """What is on and off, and why."""
    with_secret = provider.backend_api is not None
    why_not = f"needs {setting('secret_key')}"
    for feature in (
        "organizations other than the token's (membership checks)",
        "client tokens of scripts (POST /v1/clients/verify)",
        "revalidation of open WebSockets",
    ):
        yield Finding("on" if with_secret else "off", feature, "" if with_secret else why_not)
    yield Finding(
        "on" if provider.personal_workspaces else "off",
        "personal workspaces",
        "" if provider.personal_workspaces else "CLERK_PERSONAL_WORKSPACES=0",
    )
    yield Finding(
        "on" if app.sandbox_kernels else "off",
        "sandboxed kernels",
        "" if app.sandbox_kernels else "c.ClerkApp.sandbox_kernels (env CLERK_SANDBOX_KERNELS=1)",
    )
    yield Finding(
        "on" if app.terminals else "off",
        "terminals",
        "" if app.terminals else "c.ClerkApp.terminals (no environment variable)",
    )
