"""ClerkIdentityProvider: a request's credential → a verified Clerk user, or a clean refusal."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urlparse

from jupyter_server.auth.identity import IdentityProvider, User
from jupyter_server.base.handlers import APIHandler
from tornado import web
from traitlets import Bool, Float, Int, List, Type, Unicode, default, validate

from ..auth.claims import Organization, SessionClaims
from ..auth.credentials import Credential, Source, extract_credential, is_websocket_upgrade
from ..auth.keys import HttpFetch, JwksKeys, KeySource, PemKey
from ..auth.publishable_key import (
    PublishableKeyError,
    account_portal_sign_in_url,
    parse_publishable_key,
)
from ..auth.tokens import SessionTokenVerifier
from ..clerk_api.client import BackendAPI
from ..clerk_api.client_tokens import (
    MAX_TTL,
    ClientTokenResolver,
    ClientTokensUnavailable,
    is_client_token,
    organization_of,
)
from ..clerk_api.memberships import MembershipCache, MembershipsUnavailable
from ..errors import ClerkConfigError, TokenError
from ..hosts import is_loopback_host
from ..pages.login import ClerkLoginHandler, ClerkLogoutHandler
from ..revocation.denylist import Revocation
from ..revocation.open_sockets import OpenSockets, SessionRevalidator, SocketOwner
from ..settings_env import env_flag, env_list, env_str
from ..workspaces.resolution import Workspace, requested_workspace, resolve_workspace

UNAUTHENTICATED_MESSAGE = "Sign-in required: send a valid Clerk session token."


@dataclass
class ClerkUser(User):
    """A Jupyter user that remembers which Clerk session and organization it came from."""

    session_id: str = ""
    organization: Organization | None = None
    token_authenticated: bool = False
    workspace: Workspace | None = None


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


def refuse(
    handler: web.RequestHandler, status: int, message: str, headers: dict[str, str]
) -> NoReturn:
    """Ends the request with a JSON refusal; unlike an HTTPError, keeps the headers."""
    handler.set_status(status)
    for name, value in headers.items():
        handler.set_header(name, value)
    handler.set_header("Content-Type", "application/json")
    raise web.Finish(json.dumps({"message": message, "reason": None}))


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

    @default("personal_workspaces")
    def _personal_workspaces_default(self) -> bool:
        return env_flag("CLERK_PERSONAL_WORKSPACES", True)

    @default("allow_local_instance")
    def _allow_local_instance_default(self) -> bool:
        return env_flag("CLERK_ALLOW_LOCAL_INSTANCE", False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.verifier = SessionTokenVerifier(
            self._key_source(),
            issuer=self._issuer(),
            authorized_parties=self._authorized_parties(),
            leeway=self.clock_skew_seconds,
            cache_size=self.token_cache_size,
        )
        self.backend_api = (
            BackendAPI(self._api_base(), self.secret_key, timeout=self.http_timeout_seconds)
            if self.secret_key
            else None
        )
        self.memberships = (
            MembershipCache(self.backend_api.user_memberships, ttl=self.membership_cache_seconds)
            if self.backend_api
            else None
        )
        # Client tokens of non-browser callers need the Backend API: without a secret key
        # they are refused like any other token that is not a session token.
        self.client_tokens = (
            ClientTokenResolver(
                self.backend_api.verify_client,
                ttl=self.client_token_cache_seconds,
                max_entries=self.token_cache_size,
                verify_rate=self.client_token_verify_rate,
                verify_burst=self.client_token_verify_burst,
            )
            if self.backend_api
            else None
        )
        self.revocation = Revocation(
            self.verifier.cache, self.client_tokens, self.memberships, OpenSockets()
        )
        self.revalidator = (
            SessionRevalidator(
                self.revocation.sockets,
                self.backend_api.get_session,
                self.websocket_revalidate_seconds,
            )
            if self.backend_api
            else None
        )

    @validate("client_token_cache_seconds")
    def _validate_client_token_cache_seconds(self, proposal: dict[str, Any]) -> float:
        if not 0 <= proposal["value"] <= MAX_TTL:
            raise ClerkConfigError(
                "c.ClerkIdentityProvider.client_token_cache_seconds must be between 0 and 60."
            )
        return proposal["value"]

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
        try:
            user = await self._verify(credential, handler) if credential else None
            if user is not None:
                user.workspace = await resolve_workspace(
                    user.username,
                    user.organization,
                    requested_workspace(handler.request),
                    personal_enabled=self.personal_workspaces,
                    memberships=self.memberships,
                )
        except MembershipsUnavailable as exc:
            retry = {"Retry-After": str(math.ceil(exc.retry_after))} if exc.retry_after else {}
            refuse(handler, 503, exc.log_message or "", retry)
        if user is not None:
            handler._token_authenticated = user.token_authenticated  # type: ignore[attr-defined]
            if is_websocket_upgrade(handler.request):
                self._track_websocket(handler, user)
            return user
        if not _allows_anonymous(handler) and (
            isinstance(handler, APIHandler) or is_websocket_upgrade(handler.request)
        ):
            refuse(
                handler,
                401,
                UNAUTHENTICATED_MESSAGE,
                {"WWW-Authenticate": 'Bearer realm="jupyter"'},
            )
        return None

    async def _verify(
        self, credential: Credential, handler: web.RequestHandler | None = None
    ) -> ClerkUser | None:
        try:
            claims = self.verifier.cached(credential.token)
            if claims is None:
                if (
                    self.client_tokens is not None
                    and credential.source is Source.HEADER  # long-lived: never URLs, cookies
                    and is_client_token(credential.token)
                ):
                    return await self._client_token_user(credential.token)
                claims = await self.verifier.verify(credential.token)
        except TokenError as exc:
            self.log.info(
                "Refused a Clerk credential from the %s: %s", credential.source.value, exc
            )
            return None
        except ClientTokensUnavailable as exc:
            self.log.warning("Clerk client token not resolved: %s", exc)
            if handler is None:
                return None
            refuse(handler, 503, str(exc), {"Retry-After": str(math.ceil(exc.retry_after))})
        org_id = claims.organization.id if claims.organization else None
        if self.revocation.refuses(claims.user_id, claims.session_id, org_id, claims.issued_at):
            self.log.info("Refused a Clerk credential: its access was revoked")
            return None
        return user_from_claims(claims, token_authenticated=credential.source.explicit)

    def _track_websocket(self, handler: web.RequestHandler, user: ClerkUser) -> None:
        """Remember who opened the socket, so revocation can find and close it."""
        workspace = user.workspace
        if workspace is not None:
            org_id = workspace.id if workspace.kind == "organization" else None
        else:
            org_id = user.organization.id if user.organization else None
        self.revocation.sockets.track(handler, SocketOwner(user.username, user.session_id, org_id))
        if self.revalidator is not None:
            self.revalidator.ensure_running()

    async def _client_token_user(self, token: str) -> ClerkUser:
        """The user of the client token's chosen session, shaped like a session-token user."""
        session = await self.client_tokens.resolve(token)  # type: ignore[union-attr]
        if self.revocation.refuses(session.user_id, session.id, None, time.time()):
            raise TokenError("session-revoked", "the client's session was revoked")
        organization = None
        org_id = session.last_active_organization_id
        if org_id is not None:
            membership = await self.memberships.membership(session.user_id, org_id)  # type: ignore[union-attr]
            if membership is None:
                raise TokenError("not-a-member", "the session's organization no longer has them")
            organization = organization_of(membership)
        return ClerkUser(
            username=session.user_id,
            session_id=session.id,
            organization=organization,
            token_authenticated=True,
        )

    def identity_model(self, user: User) -> dict[str, Any]:
        model = {
            name: getattr(user, name)
            for name in ("username", "name", "display_name", "initials", "avatar_url", "color")
        }
        org = getattr(user, "organization", None)
        workspace = getattr(user, "workspace", None)
        model["workspace"] = (
            {
                "kind": workspace.kind,
                "id": workspace.id,
                "slug": workspace.slug,
                "role": workspace.role,
            }
            if workspace
            else None
        )
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
