"""The Clerk instance a server trusts: its settings, read from traits and CLERK_* variables.

Validation lives here so that a bad configuration stops the server at start-up with a
message naming both the trait and the environment variable; the provider only uses the
checked values.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

from traitlets import Bool, Float, Int, List, Unicode, default, validate
from traitlets.config import LoggingConfigurable

from ..auth.keys import HttpFetch, JwksKeys, KeySource, PemKey
from ..auth.publishable_key import PublishableKeyError, parse_publishable_key
from ..clerk_api.client_tokens import MAX_TTL
from ..errors import ClerkConfigError
from ..hosts import is_loopback_host
from ..settings_env import env_flag, env_list, env_str


class ClerkSettings(LoggingConfigurable):
    """Traits of ClerkIdentityProvider (configured as c.ClerkIdentityProvider.*)."""

    publishable_key = Unicode(
        help="Clerk publishable key (pk_test_… or pk_live_…). Env: CLERK_PUBLISHABLE_KEY."
    ).tag(config=True)
    secret_key = Unicode(
        help="Clerk secret key, for the Backend API (JWKS, memberships). Env: CLERK_SECRET_KEY."
    ).tag(config=True)
    jwt_key = Unicode(
        help="PEM public key of the instance: verification with no network. Env: CLERK_JWT_KEY."
    ).tag(config=True)
    jwks_url = Unicode(
        help="JWKS URL. Default: the Backend API's /v1/jwks when a secret key is set, else the "
        "Frontend API's /.well-known/jwks.json. Env: CLERK_JWKS_URL."
    ).tag(config=True)
    api_url = Unicode(help="Clerk Backend API URL. Env: CLERK_API_URL.").tag(config=True)
    issuer = Unicode(
        help="Required `iss` of session tokens. Default: https://<Frontend API host of the "
        "publishable key>."
    ).tag(config=True)
    authorized_parties = List(
        Unicode(),
        help="Origins allowed in a token's `azp` claim, e.g. ['https://notebooks.example.com']. "
        "Env: CLERK_AUTHORIZED_PARTIES (comma-separated).",
    ).tag(config=True)
    skip_authorized_parties_check = Bool(
        False, help="Accept tokens from any origin. Only for setups with no browser clients."
    ).tag(config=True)
    clock_skew_seconds = Float(5.0, help="Leeway for exp, nbf and iat, in seconds.").tag(
        config=True
    )
    jwks_refresh_cooldown_seconds = Float(
        60.0, help="At most one JWKS refetch (on an unknown kid) per this many seconds."
    ).tag(config=True)
    http_timeout_seconds = Float(5.0, help="Timeout of each call to Clerk.").tag(config=True)
    token_cache_size = Int(10_000, help="Verified tokens kept in memory.").tag(config=True)
    client_token_cache_seconds = Float(
        MAX_TTL,
        help="How long a Clerk client token's session (from POST /v1/clients/verify) is trusted "
        "before Clerk is asked again; at most 60 s, so a revoked session stops working soon.",
    ).tag(config=True)
    client_token_verify_rate = Float(
        10.0,
        help="Calls per second to POST /v1/clients/verify for client tokens not in the cache "
        "(a token bucket; beyond it requests get 503 with Retry-After).",
    ).tag(config=True)
    client_token_verify_burst = Float(
        20.0, help="Burst allowed above client_token_verify_rate."
    ).tag(config=True)
    websocket_revalidate_seconds = Float(
        300.0,
        help="How often the Clerk sessions behind open WebSockets are re-checked with the "
        "Backend API (needs the secret key); a session no longer active closes its sockets. "
        "0 turns it off (then only webhooks close them).",
    ).tag(config=True)
    sign_in_url = Unicode(
        help="Where a person signs in (Clerk's Account Portal or the local instance). "
        "Env: CLERK_SIGN_IN_URL."
    ).tag(config=True)
    sign_out_url = Unicode(
        help="Where a person signs out of Clerk after leaving Jupyter. Env: CLERK_SIGN_OUT_URL."
    ).tag(config=True)
    frontend_api_url = Unicode(
        help="Where browsers reach the Clerk Frontend API (clerk-js, token refresh). Default: "
        "https://<Frontend API host of the publishable key>. The local instance serves plain "
        "http: set its URL. Env: CLERK_FRONTEND_API_URL."
    ).tag(config=True)
    clerk_js_version = Unicode(
        "6",
        help="The clerk-js the browser loads from the Frontend API: a major version (6, or 5 "
        "for older instances) or an exact one such as 6.40.0. Env: CLERK_JS_VERSION.",
    ).tag(config=True)
    sign_in_hint = Unicode(
        help="A line shown above Clerk's sign-in form (the demo shows its password there). "
        "Env: CLERK_SIGN_IN_HINT.",
    ).tag(config=True)
    local_instance_shortcut = Bool(
        help="Tests only: the front end takes tokens straight from the local instance's "
        "Frontend API and its sign-in page, without clerk-js. Needs allow_local_instance. "
        "Env: CLERK_LOCAL_INSTANCE_SHORTCUT=1.",
    ).tag(config=True)
    personal_workspaces = Bool(
        True,
        help="Offer each person a personal workspace besides their organizations. Turn off for "
        "B2B deployments. Env: CLERK_PERSONAL_WORKSPACES=0.",
    ).tag(config=True)
    membership_cache_seconds = Float(
        60.0, help="How long an organization membership read from Clerk is trusted."
    ).tag(config=True)
    allow_local_instance = Bool(
        help="Accept a Clerk instance on a loopback address (the local development instance). "
        "Env: CLERK_ALLOW_LOCAL_INSTANCE=1."
    ).tag(config=True)

    @default("publishable_key")
    def _publishable_key_default(self) -> str:
        return env_str("CLERK_PUBLISHABLE_KEY")

    @default("secret_key")
    def _secret_key_default(self) -> str:
        return env_str("CLERK_SECRET_KEY")

    @default("jwt_key")
    def _jwt_key_default(self) -> str:
        return env_str("CLERK_JWT_KEY")

    @default("jwks_url")
    def _jwks_url_default(self) -> str:
        return env_str("CLERK_JWKS_URL")

    @default("api_url")
    def _api_url_default(self) -> str:
        return env_str("CLERK_API_URL", "https://api.clerk.com")

    @default("authorized_parties")
    def _authorized_parties_default(self) -> list[str]:
        return env_list("CLERK_AUTHORIZED_PARTIES")

    @default("sign_in_url")
    def _sign_in_url_default(self) -> str:
        return env_str("CLERK_SIGN_IN_URL")

    @default("sign_out_url")
    def _sign_out_url_default(self) -> str:
        return env_str("CLERK_SIGN_OUT_URL")

    @default("frontend_api_url")
    def _frontend_api_url_default(self) -> str:
        if env_str("CLERK_FRONTEND_API_URL"):
            return env_str("CLERK_FRONTEND_API_URL")
        frontend_api = self._frontend_api()
        return f"https://{frontend_api}" if frontend_api else ""

    @default("clerk_js_version")
    def _clerk_js_version_default(self) -> str:
        return env_str("CLERK_JS_VERSION", "6")

    @validate("clerk_js_version")
    def _validate_clerk_js_version(self, proposal: dict[str, Any]) -> str:
        if not re.fullmatch(r"[56](?:\.[0-9]+\.[0-9]+)?", proposal["value"]):
            raise ClerkConfigError(
                "c.ClerkIdentityProvider.clerk_js_version (CLERK_JS_VERSION) must be 6 or 5, "
                f"or an exact version like 6.40.0; got {proposal['value']!r}."
            )
        return proposal["value"]

    @default("sign_in_hint")
    def _sign_in_hint_default(self) -> str:
        return env_str("CLERK_SIGN_IN_HINT")

    @default("local_instance_shortcut")
    def _local_instance_shortcut_default(self) -> bool:
        return env_flag("CLERK_LOCAL_INSTANCE_SHORTCUT", False)

    @default("personal_workspaces")
    def _personal_workspaces_default(self) -> bool:
        return env_flag("CLERK_PERSONAL_WORKSPACES", True)

    @default("allow_local_instance")
    def _allow_local_instance_default(self) -> bool:
        return env_flag("CLERK_ALLOW_LOCAL_INSTANCE", False)

    @validate("client_token_cache_seconds")
    def _validate_client_token_cache_seconds(self, proposal: dict[str, Any]) -> float:
        if not 0 <= proposal["value"] <= MAX_TTL:
            raise ClerkConfigError(
                "c.ClerkIdentityProvider.client_token_cache_seconds must be between 0 and 60."
            )
        return proposal["value"]

    def _frontend_api(self) -> str | None:
        if not self.publishable_key:
            return None
        try:
            return parse_publishable_key(self.publishable_key).frontend_api
        except PublishableKeyError as exc:
            raise ClerkConfigError(
                f"c.ClerkIdentityProvider.publishable_key (CLERK_PUBLISHABLE_KEY): {exc}"
            ) from None

    def _issuer(self) -> str:
        frontend_api = self._frontend_api()
        issuer = self.issuer or (f"https://{frontend_api}" if frontend_api else "")
        if not issuer:
            raise ClerkConfigError(
                "Set c.ClerkIdentityProvider.publishable_key (env CLERK_PUBLISHABLE_KEY) "
                "or c.ClerkIdentityProvider.issuer: session tokens cannot be checked without it."
            )
        if is_loopback_host(urlparse(issuer).hostname):
            if not self.allow_local_instance:
                raise ClerkConfigError(
                    "The Clerk instance is on a loopback address (the local development "
                    "instance). Set c.ClerkIdentityProvider.allow_local_instance = True "
                    "(env CLERK_ALLOW_LOCAL_INSTANCE=1) to run against it on purpose."
                )
            self.log.warning(
                "\n%s\n  DEVELOPMENT MODE: accepting sign-ins from the local Clerk instance at %s."
                "\n  Demo users, no real security. Never expose this server.\n%s",
                "!" * 78,
                issuer,
                "!" * 78,
            )
        return issuer

    def _authorized_parties(self) -> list[str] | None:
        if self.skip_authorized_parties_check:
            if self.authorized_parties:
                raise ClerkConfigError(
                    "c.ClerkIdentityProvider.skip_authorized_parties_check is set together with "
                    "authorized_parties: choose one."
                )
            self.log.warning("Clerk tokens are accepted from any origin (azp is not checked).")
            return None
        if not self.authorized_parties:
            raise ClerkConfigError(
                "Set c.ClerkIdentityProvider.authorized_parties (env CLERK_AUTHORIZED_PARTIES) "
                "to the origins JupyterLab is served from, e.g. https://notebooks.example.com. "
                "(Or c.ClerkIdentityProvider.skip_authorized_parties_check = True if no browser "
                "ever connects.)"
            )
        for party in self.authorized_parties:
            parsed = urlparse(party)
            if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.path:
                raise ClerkConfigError(
                    f"c.ClerkIdentityProvider.authorized_parties: {party!r} is not an origin "
                    "(scheme://host[:port], no path)."
                )
        return list(self.authorized_parties)

    def _api_base(self) -> str:
        parsed = urlparse(self.api_url)
        if parsed.scheme != "https" and not (
            parsed.scheme == "http" and is_loopback_host(parsed.hostname)
        ):
            raise ClerkConfigError(
                "c.ClerkIdentityProvider.api_url (CLERK_API_URL) must be https:// "
                "(plain http only on a loopback address): the secret key travels with each call."
            )
        return self.api_url.rstrip("/")

    def _key_source(self) -> KeySource:
        if self.jwt_key:
            if self.jwks_url:
                raise ClerkConfigError(
                    "Both c.ClerkIdentityProvider.jwt_key (CLERK_JWT_KEY) and jwks_url "
                    "(CLERK_JWKS_URL) are set: choose one."
                )
            try:
                return PemKey(self.jwt_key)
            except ValueError as exc:
                raise ClerkConfigError(
                    f"c.ClerkIdentityProvider.jwt_key (CLERK_JWT_KEY): {exc}"
                ) from None
        api_base = self._api_base()
        url = self.jwks_url
        if not url and self.secret_key:
            url = f"{api_base}/v1/jwks"
        if not url:
            frontend_api = self._frontend_api()
            if not frontend_api:
                raise ClerkConfigError(
                    "No way to get Clerk's signing keys: set c.ClerkIdentityProvider.jwt_key "
                    "(CLERK_JWT_KEY), secret_key (CLERK_SECRET_KEY) or publishable_key."
                )
            url = f"https://{frontend_api}/.well-known/jwks.json"
        headers = {}
        if self.secret_key and url.startswith(f"{api_base}/"):
            headers["Authorization"] = f"Bearer {self.secret_key}"
        return JwksKeys(
            HttpFetch(url, headers, self.http_timeout_seconds),
            cooldown=self.jwks_refresh_cooldown_seconds,
        )
