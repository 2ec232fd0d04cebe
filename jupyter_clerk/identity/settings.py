"""The Clerk instance a server trusts: its settings, read from traits and CLERK_* variables.

Validation lives here so that a bad configuration stops the server at start-up with a
message naming both the trait and the environment variable; the provider only uses the
checked values.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import urlparse

from traitlets import Bool, Float, Int, List, Unicode, default, validate
from traitlets.config import LoggingConfigurable

from ..auth.keys import HttpFetch, JwksKeys, KeySource, PemKey
from ..auth.publishable_key import PublishableKeyError, parse_publishable_key
from ..auth.tokens import SessionTokenVerifier
from ..clerk_api.client_tokens import MAX_TTL
from ..errors import ClerkConfigError
from ..hosts import is_loopback_host
from ..settings_env import describe_setting, env_flag, env_int, env_list, env_str

# The environment variable of each trait that has one: start-up errors name both.
ENVIRONMENT = {
    "publishable_key": "CLERK_PUBLISHABLE_KEY",
    "secret_key": "CLERK_SECRET_KEY",
    "jwt_key": "CLERK_JWT_KEY",
    "jwks_url": "CLERK_JWKS_URL",
    "api_url": "CLERK_API_URL",
    "authorized_parties": "CLERK_AUTHORIZED_PARTIES",
    "sign_in_url": "CLERK_SIGN_IN_URL",
    "sign_out_url": "CLERK_SIGN_OUT_URL",
    "frontend_api_url": "CLERK_FRONTEND_API_URL",
    "personal_workspaces": "CLERK_PERSONAL_WORKSPACES",
    "allow_local_instance": "CLERK_ALLOW_LOCAL_INSTANCE",
    "clerk_js_version": "CLERK_JS_VERSION",
    "token_cache_size": "CLERK_TOKEN_CACHE_SIZE",
    "backend_api_budget_share": "CLERK_BACKEND_API_BUDGET_SHARE",
}
# Free-text settings where a stray space or newline (copied from a dashboard) is never meant.
_TRIMMED = (
    "publishable_key",
    "secret_key",
    "jwt_key",
    "jwks_url",
    "api_url",
    "issuer",
    "sign_in_url",
    "sign_out_url",
    "frontend_api_url",
)


# The least usable value of numeric settings, and whether that value itself is allowed: below
# it a setting stops the server with a bare error from deep inside, or silently switches a
# protection off (a cache that keeps nothing, revalidation that never runs). All are finite.
_LOWEST: dict[str, tuple[float, bool]] = {
    "http_timeout_seconds": (0, False),
    "client_token_verify_rate": (0, False),
    "client_token_verify_burst": (1, True),
    "token_cache_size": (1, True),
    "websocket_revalidate_backoff_with_webhooks": (1, True),
    "websocket_revalidate_seconds": (0, True),
    "clock_skew_seconds": (0, True),
    "jwks_refresh_cooldown_seconds": (0, True),
    "membership_cache_seconds": (0, True),
    "membership_stale_seconds": (0, True),
    "profile_cache_seconds": (0, True),
}


def setting(trait: str, section: str = "ClerkIdentityProvider") -> str:
    """How an operator sets a trait, for error messages: the trait and its variable."""
    return describe_setting(section, trait, ENVIRONMENT.get(trait))


class ClerkSettings(LoggingConfigurable):
    """Traits of ClerkIdentityProvider (configured as c.ClerkIdentityProvider.*)."""

    # Where the operator sets these traits, as error messages name them.
    config_section = "ClerkIdentityProvider"

    def _setting(self, trait: str) -> str:
        return setting(trait, self.config_section)

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
    token_cache_size = Int(
        help="Verified session tokens kept in memory (about 1.5 KB each). A browser tab holds "
        "one or two live tokens at a time (they last 60 s and are refreshed every ~50 s): set "
        "at least 2 × open tabs, or every request verifies its token again. Default 10 000. "
        "Env: CLERK_TOKEN_CACHE_SIZE.",
    ).tag(config=True)
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
        "The memberships of people with organization WebSockets are re-checked too: a removed "
        "member, or one whose role no longer runs code, loses those sockets. "
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
    # --- scale: what one server holds, and what it asks of Clerk -------------------------
    backend_api_budget_share = Float(
        0.2,
        help="Share of Clerk's Backend API rate limit (1 000 requests per 10 s on production "
        "instances, 100 on development ones, i.e. sk_test_ keys) that re-checking the sessions "
        "and memberships of open WebSockets may use, every request counted (retries too); the "
        "rest is left for sign-ins, memberships and client tokens. "
        "Env: CLERK_BACKEND_API_BUDGET_SHARE.",
    ).tag(config=True)
    websocket_revalidate_concurrency = Int(
        8, help="Session re-checks in flight at once during a revalidation round."
    ).tag(config=True)
    websocket_revalidate_backoff_with_webhooks = Float(
        6.0,
        help="With webhooks configured (c.ClerkApp.webhook_signing_secret), the sessions of open "
        "WebSockets are re-checked, and memberships looked up again, this many times less "
        "often: webhooks already report revocations and membership changes.",
    ).tag(config=True)
    membership_stale_seconds = Float(
        30.0,
        help="How long past membership_cache_seconds a membership is still served while it is "
        "being refreshed (or Clerk is rate-limited or down). A removed member keeps access at "
        "most membership_cache_seconds + this, when no webhook reports the removal.",
    ).tag(config=True)
    profile_cache_seconds = Float(
        600.0,
        help="How long a person's name and picture (for the top bar) are kept; the user.updated "
        "and user.deleted webhooks drop them sooner.",
    ).tag(config=True)

    allow_local_instance = Bool(
        help="Accept a Clerk instance on a loopback address (the local development instance). "
        "Env: CLERK_ALLOW_LOCAL_INSTANCE=1."
    ).tag(config=True)

    @default("publishable_key")
    def _publishable_key_default(self) -> str:
        return env_str(ENVIRONMENT["publishable_key"])

    @default("secret_key")
    def _secret_key_default(self) -> str:
        return env_str(ENVIRONMENT["secret_key"])

    @default("jwt_key")
    def _jwt_key_default(self) -> str:
        return env_str(ENVIRONMENT["jwt_key"])

    @default("jwks_url")
    def _jwks_url_default(self) -> str:
        return env_str(ENVIRONMENT["jwks_url"])

    @default("api_url")
    def _api_url_default(self) -> str:
        return env_str(ENVIRONMENT["api_url"], "https://api.clerk.com")

    @default("authorized_parties")
    def _authorized_parties_default(self) -> list[str]:
        return env_list(ENVIRONMENT["authorized_parties"])

    @default("sign_in_url")
    def _sign_in_url_default(self) -> str:
        return env_str(ENVIRONMENT["sign_in_url"])

    @default("sign_out_url")
    def _sign_out_url_default(self) -> str:
        return env_str(ENVIRONMENT["sign_out_url"])

    @default("frontend_api_url")
    def _frontend_api_url_default(self) -> str:
        if env_str(ENVIRONMENT["frontend_api_url"]):
            return env_str(ENVIRONMENT["frontend_api_url"])
        frontend_api = self._frontend_api()
        return f"https://{frontend_api}" if frontend_api else ""

    @default("clerk_js_version")
    def _clerk_js_version_default(self) -> str:
        return env_str("CLERK_JS_VERSION", "6")

    @validate("clerk_js_version")
    def _validate_clerk_js_version(self, proposal: dict[str, Any]) -> str:
        if not re.fullmatch(r"[56](?:\.[0-9]+\.[0-9]+)?", proposal["value"]):
            raise ClerkConfigError(
                f"{self._setting('clerk_js_version')} must be 6 or 5, "
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
        return env_flag(ENVIRONMENT["personal_workspaces"], True)

    @default("token_cache_size")
    def _token_cache_size_default(self) -> int:
        try:
            size = env_int("CLERK_TOKEN_CACHE_SIZE", 10_000)
        except ValueError as exc:
            raise ClerkConfigError(f"{self._setting('token_cache_size')}: {exc}") from None
        self._check_lowest("token_cache_size", size)
        return size

    @default("backend_api_budget_share")
    def _backend_api_budget_share_default(self) -> float:
        value = env_str("CLERK_BACKEND_API_BUDGET_SHARE", "0.2")
        try:
            share = float(value)
        except ValueError:
            raise ClerkConfigError(
                f"{self._setting('backend_api_budget_share')}: {value!r} is not a number."
            ) from None
        return self._budget_share(share)

    @validate("backend_api_budget_share")
    def _validate_backend_api_budget_share(self, proposal: dict[str, Any]) -> float:
        return self._budget_share(proposal["value"])

    def _budget_share(self, value: float) -> float:
        if not 0 < value <= 1:
            raise ClerkConfigError(
                f"{self._setting('backend_api_budget_share')} must be more than 0 and at most 1."
            )
        return value

    def _backend_api_calls_per_second(self) -> float:
        """Clerk's documented rate limit, by the kind of secret key, times our share."""
        per_ten_seconds = 1000 if self.secret_key.startswith("sk_live_") else 100
        return per_ten_seconds / 10 * self.backend_api_budget_share

    @default("allow_local_instance")
    def _allow_local_instance_default(self) -> bool:
        return env_flag(ENVIRONMENT["allow_local_instance"], False)

    @validate(*_TRIMMED)
    def _validate_trimmed(self, proposal: dict[str, Any]) -> str:
        return proposal["value"].strip()

    @validate("authorized_parties")
    def _validate_authorized_parties(self, proposal: dict[str, Any]) -> list[str]:
        return [party.strip() for party in proposal["value"] if party.strip()]

    @validate(*_LOWEST)
    def _validate_lowest(self, proposal: dict[str, Any]) -> float:
        self._check_lowest(proposal["trait"].name, proposal["value"])
        return proposal["value"]

    def _check_lowest(self, trait: str, value: float) -> None:
        """Also called by defaults read from the environment: traitlets skips `@validate`
        for dynamic defaults."""
        lowest, allowed = _LOWEST[trait]
        if not (math.isfinite(value) and (value >= lowest if allowed else value > lowest)):
            bound = f"at least {lowest:g}" if allowed else f"more than {lowest:g}"
            raise ClerkConfigError(f"{self._setting(trait)} must be {bound}; got {value!r}.")

    @validate("client_token_cache_seconds")
    def _validate_client_token_cache_seconds(self, proposal: dict[str, Any]) -> float:
        if not 0 <= proposal["value"] <= MAX_TTL:
            raise ClerkConfigError(
                f"{self._setting('client_token_cache_seconds')} must be between 0 and 60."
            )
        return proposal["value"]

    def _frontend_api(self) -> str | None:
        if not self.publishable_key:
            return None
        try:
            return parse_publishable_key(self.publishable_key).frontend_api
        except PublishableKeyError as exc:
            raise ClerkConfigError(f"{self._setting('publishable_key')}: {exc}") from None

    def require_instance(self) -> None:
        """Without an instance nothing else can be checked: say at once all there is to set."""
        if self.publishable_key or self.issuer:
            return
        key = self._setting("publishable_key")
        needed = [f"  - {key}: pk_live_… or pk_test_… of your instance"]
        if not self.authorized_parties and not self.skip_authorized_parties_check:
            needed.append(
                f"  - {self._setting('authorized_parties')}: the origins JupyterLab is served "
                "from, "
                "e.g. https://notebooks.example.com"
            )
        if not self.secret_key:
            needed.append(
                f"  - {self._setting('secret_key')} (recommended): memberships of other "
                "organizations, client tokens and revocation need it"
            )
        raise ClerkConfigError(
            "jupyter-clerk does not know your Clerk instance. Set:\n" + "\n".join(needed)
        )

    def log_what_is_off(self) -> None:
        """Said once at start-up, so an operator need not find out by failing."""
        if not self.secret_key:
            self.log.warning(
                "jupyter-clerk: no %s, so these are off: organizations other than the token's "
                "(membership checks), client tokens of scripts, and the revalidation of open "
                "WebSockets. `jupyter clerk check` lists what is on and off.",
                self._setting("secret_key"),
            )

    def _issuer(self) -> str:
        frontend_api = self._frontend_api()
        issuer = self.issuer or (f"https://{frontend_api}" if frontend_api else "")
        if not issuer:
            raise ClerkConfigError(
                f"Set {self._setting('publishable_key')} or {self._setting('issuer')}: "
                "session tokens cannot be checked without it."
            )
        _require_https(issuer, self._setting("issuer"), "Clerk instances are served over https")
        if is_loopback_host(urlparse(issuer).hostname):
            if not self.allow_local_instance:
                raise ClerkConfigError(
                    "The Clerk instance is on a loopback address (the local development "
                    f"instance). Set {self._setting('allow_local_instance')} to True (=1) to run "
                    "against it on purpose."
                )
            self.log.warning(
                "\n%s\n  DEVELOPMENT MODE: accepting sign-ins from the local Clerk instance"
                "\n  (Frontend API %s; its tokens name %s as issuer)."
                "\n  Demo users, no real security. Never expose this server.\n%s",
                "!" * 78,
                self.frontend_api_url or issuer,
                issuer,
                "!" * 78,
            )
        return issuer

    def _authorized_parties(self) -> list[str] | None:
        if self.skip_authorized_parties_check:
            if self.authorized_parties:
                raise ClerkConfigError(
                    f"{self._setting('skip_authorized_parties_check')} is set together with "
                    f"{self._setting('authorized_parties')}: choose one."
                )
            self.log.warning("Clerk tokens are accepted from any origin (azp is not checked).")
            return None
        if not self.authorized_parties:
            raise ClerkConfigError(
                f"Set {self._setting('authorized_parties')} to the origins JupyterLab is served "
                "from, e.g. https://notebooks.example.com. (Or "
                f"{self._setting('skip_authorized_parties_check')} = True if no browser ever "
                "connects.)"
            )
        for party in self.authorized_parties:
            parsed = urlparse(party)
            if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.path:
                raise ClerkConfigError(
                    f"{self._setting('authorized_parties')}: {party!r} is not an origin "
                    "(scheme://host[:port], no path)."
                )
        return list(self.authorized_parties)

    def session_token_verifier(self) -> SessionTokenVerifier:
        """The verifier these settings describe (keys, issuer, parties, leeway, cache)."""
        return SessionTokenVerifier(
            self._key_source(),
            issuer=self._issuer(),
            authorized_parties=self._authorized_parties(),
            leeway=self.clock_skew_seconds,
            cache_size=self.token_cache_size,
        )

    def _api_base(self) -> str:
        _require_https(
            self.api_url, self._setting("api_url"), "the secret key travels with each call"
        )
        return self.api_url.rstrip("/")

    def _key_source(self) -> KeySource:
        if self.jwt_key:
            if self.jwks_url:
                raise ClerkConfigError(
                    f"Both {self._setting('jwt_key')} and {self._setting('jwks_url')} are set: "
                    "choose one."
                )
            try:
                return PemKey(self.jwt_key)
            except ValueError as exc:
                raise ClerkConfigError(f"{self._setting('jwt_key')}: {exc}") from None
        api_base = self._api_base()
        url = self.jwks_url
        if url:
            _require_https(
                url, self._setting("jwks_url"), "whoever can change the keys can sign tokens"
            )
        if not url and self.secret_key:
            url = f"{api_base}/v1/jwks"
        if not url:
            frontend_api = self._frontend_api()
            if not frontend_api:
                raise ClerkConfigError(
                    f"No way to get Clerk's signing keys: set {self._setting('jwt_key')}, "
                    f"{self._setting('secret_key')} or {self._setting('publishable_key')}."
                )
            url = f"https://{frontend_api}/.well-known/jwks.json"
        headers = {}
        if self.secret_key and url.startswith(f"{api_base}/"):
            headers["Authorization"] = f"Bearer {self.secret_key}"
        return JwksKeys(
            HttpFetch(url, headers, self.http_timeout_seconds),
            cooldown=self.jwks_refresh_cooldown_seconds,
        )


def _require_https(url: str, name: str, why: str) -> None:
    """https://, or plain http only on a loopback address (the local instance)."""
    parsed = urlparse(url)
    if parsed.scheme != "https" and not (
        parsed.scheme == "http" and is_loopback_host(parsed.hostname)
    ):
        raise ClerkConfigError(
            f"{name} must be https:// (plain http only on a loopback address): {why}."
        )
