"""ClerkIdentityProvider: a request's credential → a verified Clerk user, or a clean refusal."""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from jupyter_server.auth.identity import IdentityProvider, User
from jupyter_server.base.handlers import APIHandler
from tornado import web
from traitlets import Bool, Float, Int, List, Type, Unicode, default, validate

from . import logscrub
from .claims import Organization, SessionClaims
from .credentials import Credential, extract_credential, is_websocket_upgrade
from .errors import ClerkConfigError, TokenError
from .handlers import ClerkLoginHandler, ClerkLogoutHandler
from .jwks import HttpFetch, JwksKeys, KeySource, PemKey
from .publishable_key import (
    PublishableKeyError,
    account_portal_sign_in_url,
    parse_publishable_key,
)
from .tokens import SessionTokenVerifier

UNAUTHENTICATED_MESSAGE = "Sign-in required: send a valid Clerk session token."


def _env(name: str, fallback: str = "") -> str:
    return os.environ.get(name, fallback)


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class ClerkUser(User):
    """A Jupyter user that remembers which Clerk session and organization it came from."""

    session_id: str = ""
    organization: Organization | None = None
    token_authenticated: bool = False


def user_from_claims(claims: SessionClaims, *, token_authenticated: bool) -> ClerkUser:
    """Username is the Clerk user id: stable, unique, and already validated."""
    extra = claims.extra
    name = extra.get("name") if isinstance(extra.get("name"), str) else ""
    avatar = next(
        (extra[k] for k in ("image_url", "picture") if isinstance(extra.get(k), str)), None
    )
    initials = "".join(part[0] for part in name.split()[:2]).upper() or None
    return ClerkUser(
        username=claims.user_id,
        name=name,
        initials=initials,
        avatar_url=avatar if avatar and avatar.startswith("https://") else None,
        session_id=claims.session_id,
        organization=claims.organization,
        token_authenticated=token_authenticated,
    )


def _allows_anonymous(handler: web.RequestHandler) -> bool:
    method = getattr(handler, (handler.request.method or "").lower(), None)
    return bool(getattr(method, "__allow_unauthenticated", False))


class ClerkIdentityProvider(IdentityProvider):
    """Authenticates every request and WebSocket with a Clerk session token."""

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
    sign_in_url = Unicode(
        help="Where a person signs in (Clerk's Account Portal or the local instance). "
        "Env: CLERK_SIGN_IN_URL."
    ).tag(config=True)
    sign_out_url = Unicode(
        help="Where a person signs out of Clerk after leaving Jupyter. Env: CLERK_SIGN_OUT_URL."
    ).tag(config=True)
    allow_local_instance = Bool(
        help="Accept a Clerk instance on a loopback address (the local development instance). "
        "Env: CLERK_ALLOW_LOCAL_INSTANCE=1."
    ).tag(config=True)

    login_handler_class = Type(default_value=ClerkLoginHandler, klass=web.RequestHandler)
    logout_handler_class = Type(default_value=ClerkLogoutHandler, klass=web.RequestHandler)
    need_token = Bool(False)

    @default("token")
    def _token_default(self) -> str:
        return ""  # rendered into every page's config by JupyterLab: it must stay empty

    @validate("token")
    def _validate_token(self, proposal: dict[str, Any]) -> str:
        if proposal["value"]:
            self.log.warning("Ignoring a Jupyter token: only Clerk sign-in opens this server.")
        return ""

    @default("publishable_key")
    def _publishable_key_default(self) -> str:
        return _env("CLERK_PUBLISHABLE_KEY")

    @default("secret_key")
    def _secret_key_default(self) -> str:
        return _env("CLERK_SECRET_KEY")

    @default("jwt_key")
    def _jwt_key_default(self) -> str:
        return _env("CLERK_JWT_KEY")

    @default("jwks_url")
    def _jwks_url_default(self) -> str:
        return _env("CLERK_JWKS_URL")

    @default("api_url")
    def _api_url_default(self) -> str:
        return _env("CLERK_API_URL", "https://api.clerk.com")

    @default("authorized_parties")
    def _authorized_parties_default(self) -> list[str]:
        return [p.strip() for p in _env("CLERK_AUTHORIZED_PARTIES").split(",") if p.strip()]

    @default("sign_in_url")
    def _sign_in_url_default(self) -> str:
        return _env("CLERK_SIGN_IN_URL")

    @default("sign_out_url")
    def _sign_out_url_default(self) -> str:
        return _env("CLERK_SIGN_OUT_URL")

    @default("allow_local_instance")
    def _allow_local_instance_default(self) -> bool:
        return _env("CLERK_ALLOW_LOCAL_INSTANCE").lower() in ("1", "true", "yes")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        logscrub.install()
        self.verifier = SessionTokenVerifier(
            self._key_source(),
            issuer=self._issuer(),
            authorized_parties=self._authorized_parties(),
            leeway=self.clock_skew_seconds,
            cache_size=self.token_cache_size,
        )

    # --- configuration -------------------------------------------------------------------

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

    # --- authentication ------------------------------------------------------------------

    async def get_user(self, handler: web.RequestHandler) -> ClerkUser | None:
        current = getattr(handler, "_jupyter_current_user", None)
        if current:
            return current
        credential = extract_credential(handler.request)
        user = await self._verify(credential) if credential else None
        if user is not None:
            handler._token_authenticated = user.token_authenticated  # type: ignore[attr-defined]
            return user
        if not _allows_anonymous(handler) and (
            isinstance(handler, APIHandler) or is_websocket_upgrade(handler.request)
        ):
            # Finished here rather than raised: an HTTPError would drop the header.
            handler.set_status(401)
            handler.set_header("WWW-Authenticate", 'Bearer realm="jupyter"')
            handler.set_header("Content-Type", "application/json")
            raise web.Finish(json.dumps({"message": UNAUTHENTICATED_MESSAGE, "reason": None}))
        return None

    async def _verify(self, credential: Credential) -> ClerkUser | None:
        try:
            claims = await self.verifier.verify(credential.token)
        except TokenError as exc:
            self.log.info(
                "Refused a Clerk credential from the %s: %s", credential.source.value, exc
            )
            return None
        return user_from_claims(claims, token_authenticated=credential.source.explicit)

    def identity_model(self, user: User) -> dict[str, Any]:
        model = {
            name: getattr(user, name)
            for name in ("username", "name", "display_name", "initials", "avatar_url", "color")
        }
        org = getattr(user, "organization", None)
        model["organization"] = (
            {
                "id": org.id,
                "slug": org.slug,
                "role": org.role,
                "permissions": sorted(org.permissions),
            }
            if org
            else None
        )
        return model

    def sign_in_url_for_server(self) -> str | None:
        if self.sign_in_url:
            return self.sign_in_url
        frontend_api = self._frontend_api()
        return account_portal_sign_in_url(frontend_api) if frontend_api else None

    def get_handlers(self) -> list[tuple[str, object]]:
        return [(r"/login", self.login_handler_class), (r"/logout", self.logout_handler_class)]

    @property
    def login_available(self) -> bool:
        return True
