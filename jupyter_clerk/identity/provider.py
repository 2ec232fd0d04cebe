"""ClerkIdentityProvider: a request's credential → a verified Clerk user, or a clean refusal."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any, NoReturn

from jupyter_server.auth.identity import IdentityProvider, User
from jupyter_server.base.handlers import APIHandler
from tornado import web
from tornado.websocket import WebSocketHandler
from traitlets import Bool, Type, default, validate

from ..auth.claims import Organization, SessionClaims
from ..auth.credentials import Credential, Source, extract_credential, is_websocket_upgrade
from ..auth.publishable_key import (
    account_portal_sign_in_url,
)
from ..auth.socket_tickets import SocketTickets
from ..clerk_api.client import BackendAPI
from ..clerk_api.client_tokens import (
    ClientTokenResolver,
    ClientTokensUnavailable,
    is_client_token,
    organization_of,
)
from ..clerk_api.memberships import MembershipCache, MembershipsUnavailable
from ..clerk_api.models import Membership
from ..clerk_api.profiles import ProfileCache
from ..errors import TokenError
from ..revocation.denylist import Revocation
from ..revocation.open_sockets import MembershipCheck, OpenSockets, SessionRevalidator, SocketOwner
from ..revocation.upgrades import guard_upgrade
from ..workspaces.authorizer import (
    DEFAULT_ROLE_ACTIONS,
    ClerkAuthorizer,
    membership_actions,
    socket_needs,
    workspace_actions,
)
from ..workspaces.kernel_sockets import unregister_unless_upgraded
from ..workspaces.resolution import Workspace, requested_workspace, resolve_workspace
from ..workspaces.socket_limits import admit_websocket
from .settings import ClerkSettings

UNAUTHENTICATED_MESSAGE = "Sign-in required: send a valid Clerk session token."


@dataclass
class ClerkUser(User):
    """A Jupyter user that remembers which Clerk session and organization it came from."""

    session_id: str = ""
    organization: Organization | None = None
    token_authenticated: bool = False
    workspace: Workspace | None = None
    # When the credential was issued (a client token's session: when it was resolved), for
    # the denylist's "issued before the role changed".
    issued_at: float = 0.0


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
        issued_at=claims.issued_at,
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


class ClerkIdentityProvider(ClerkSettings, IdentityProvider):
    """Authenticates every request and WebSocket with a Clerk session token."""

    # Strings, resolved when first used: the pages import this module, not the reverse.
    login_handler_class = Type(
        default_value="jupyter_clerk.pages.login.ClerkLoginHandler", klass=web.RequestHandler
    )
    logout_handler_class = Type(
        default_value="jupyter_clerk.pages.login.ClerkLogoutHandler", klass=web.RequestHandler
    )
    need_token = Bool(False)

    @default("token")
    def _token_default(self) -> str:
        return ""  # rendered into every page's config by JupyterLab: it must stay empty

    @validate("token")
    def _validate_token(self, proposal: dict[str, Any]) -> str:
        if proposal["value"]:
            self.log.warning("Ignoring a Jupyter token: only Clerk sign-in opens this server.")
        return ""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.require_instance()
        self.log_what_is_off()
        self.verifier = self.session_token_verifier()
        self.backend_api = (
            BackendAPI(self._api_base(), self.secret_key, timeout=self.http_timeout_seconds)
            if self.secret_key
            else None
        )
        self.memberships = (
            MembershipCache(
                self.backend_api.user_memberships,
                ttl=self.membership_cache_seconds,
                stale=self.membership_stale_seconds,
            )
            if self.backend_api
            else None
        )
        self.profiles = (
            ProfileCache(self.backend_api.get_user, ttl=self.profile_cache_seconds)
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
        self.socket_tickets = SocketTickets()
        self.revocation = Revocation(
            self.verifier.cache,
            self.client_tokens,
            self.memberships,
            OpenSockets(),
            self.profiles,
            grants=self._membership_grants,
        )
        self.revalidator = (
            SessionRevalidator(
                self.revocation.sockets,
                self.backend_api.get_session,
                self.websocket_revalidate_seconds,
                on_ended=self.revocation.session_ended,
                memberships=MembershipCheck(
                    self.memberships,  # type: ignore[arg-type]  (there with the Backend API)
                    self._membership_grants,
                    self.revocation.membership_lost,
                ),
                calls_per_second=self._backend_api_calls_per_second(),
                concurrency=self.websocket_revalidate_concurrency,
            )
            if self.backend_api
            else None
        )

    def _role_actions(self) -> dict[str, list[str]]:
        authorizer = getattr(self.parent, "authorizer", None)
        if isinstance(authorizer, ClerkAuthorizer):
            return authorizer.role_actions
        return DEFAULT_ROLE_ACTIONS

    def _membership_grants(self, membership: Membership) -> frozenset[str]:
        """What the authorizer grants, from the membership Clerk has now."""
        return membership_actions(membership, self._role_actions())

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
            if isinstance(handler, WebSocketHandler):  # a plain one answers over HTTP
                # Jupyter registers a kernel socket even when the request cannot upgrade.
                unregister_unless_upgraded(handler)
                if is_websocket_upgrade(handler.request):
                    admit_websocket(handler, user.username)  # or refuses it: 429, 503
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
        if credential.source is Source.TICKET:
            ticket = self.socket_tickets.redeem(credential.token)
            if ticket is None:
                self.log.info("Refused a WebSocket ticket: unknown, used or expired")
                return None
            if handler is not None and requested_workspace(handler.request) != ticket.workspace:
                self.log.info("Refused a WebSocket ticket: issued for another workspace")
                return None
            credential = Credential(ticket.token, Source.TICKET)
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

    def _track_websocket(self, handler: WebSocketHandler, user: ClerkUser) -> None:
        """Remember who opened the socket, so revocation can find and close it, even while
        it is still upgrading."""
        workspace = user.workspace
        needs: frozenset[str] = frozenset()
        if workspace is not None:
            org_id = workspace.id if workspace.kind == "organization" else None
            # Tracked before authorization: a need not granted now means the upgrade is
            # refused, so it is no loss later.
            needs = socket_needs(handler) & workspace_actions(workspace, self._role_actions())
        else:
            org_id = user.organization.id if user.organization else None
        owner = SocketOwner(user.username, user.session_id, org_id, needs)
        self.revocation.sockets.track(handler, owner)
        guard_upgrade(
            handler,
            self.revocation.sockets,
            lambda: self.revocation.withdrawal(
                owner.user_id, owner.session_id, owner.organization_id, user.issued_at
            ),
        )
        if self.revalidator is not None:
            self.revalidator.ensure_running()

    async def _client_token_user(self, token: str) -> ClerkUser:
        """The user of the client token's chosen session, shaped like a session-token user."""
        session = await self.client_tokens.resolve(token)  # type: ignore[union-attr]
        issued_at = time.time()
        if self.revocation.refuses(session.user_id, session.id, None, issued_at):
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
            issued_at=issued_at,
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
