"""Frontend API: what browsers (clerk-js 5 and 6) call, authenticated by the client cookie.

clerk-js sends every mutation as POST with `?_method=PATCH|DELETE`, adds
`__clerk_api_version` and `_clerk_js_version` to every call, and expects every answer to carry
the updated client as `client` beside the `response`. Loading calls `/v1/environment` and
`GET /v1/client`; `setActive` calls `…/sessions/{id}/touch`; `getToken({organizationId})`
calls `…/sessions/{id}/tokens` (which is what lets one person keep different organizations
open in different tabs); `signOut()` calls `DELETE /v1/client/sessions`. The handshake
refreshes the `__session` cookie by redirect for the local-instance shortcut.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from .base import InstanceHandler
from .cookies import client_id_from, set_client_cookie, set_signed_in_cookies
from .errors import ClerkAPIError, invalid_param, not_found, signed_out
from .fapi_resources import (
    environment_json,
    fapi_client_json,
    fapi_membership_json,
    fapi_session_json,
)
from .resources import paginated, token_json
from .state import Client, Session

APPLICATION_NAME = "Jupyter (local Clerk instance)"
DEV_BROWSER_PARAM = "__clerk_db_jwt"
_OVERRIDABLE_METHODS = ("PATCH", "PUT", "DELETE")


class PublicJWKSHandler(InstanceHandler):
    """GET /.well-known/jwks.json: the keys verifiers fetch without any credential."""

    def get(self) -> None:
        self.set_header("Access-Control-Allow-Origin", "*")
        self.write_json(self.ctx.keyring.jwks())


class FrontendAPIHandler(InstanceHandler):
    """Cookie-authenticated, so only allowed origins may call it (and read the answer)."""

    def set_default_headers(self) -> None:
        origin = self.request.headers.get("Origin")
        if origin and self.ctx.origins.allows_origin(origin):
            self.set_header("Access-Control-Allow-Origin", origin)
            self.set_header("Access-Control-Allow-Credentials", "true")
        self.set_header("Vary", "Origin")

    def check_xsrf_cookie(self) -> None:
        # A browser always sends Origin on a cross-origin POST: refusing foreign origins is the
        # CSRF defence here. Calls without Origin come from non-browser clients.
        self._require_allowed_origin()

    def _require_allowed_origin(self) -> str | None:
        """The request's `Origin`, refused (403 `origin_invalid`) unless allowed."""
        origin = self.request.headers.get("Origin")
        if origin is not None and not self.ctx.origins.allows_origin(origin):
            raise ClerkAPIError(
                403, "origin_invalid", "invalid origin", f"Origin {origin!r} is not allowed."
            )
        return origin

    def prepare(self) -> None:
        """clerk-js tunnels PATCH and DELETE through POST (`?_method=`): no CORS preflight.
        Tornado dispatches on `request.method` after `prepare`, and has already run the
        origin check above for the POST."""
        override = self.get_query_argument("_method", None)
        if override is None:
            return
        if self.request.method != "POST" or override.upper() not in _OVERRIDABLE_METHODS:
            raise invalid_param("_method", f"_method={override!r} is not supported.", 400)
        self.request.method = override.upper()

    def options(self, *args: str) -> None:
        self.check_xsrf_cookie()
        self.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.set_header("Access-Control-Allow-Headers", "Content-Type")
        self.set_header("Access-Control-Max-Age", "600")
        self.set_status(204)
        self.finish()

    def current_client_id(self) -> str | None:
        """The client cookie, or on development domains the dev browser's token."""
        dev_browser = self.get_query_argument(DEV_BROWSER_PARAM, None)
        if dev_browser is not None:
            return self.ctx.frontend.dev_browsers.get(dev_browser)
        return client_id_from(self)

    def optional_client(self) -> Client | None:
        client_id = self.current_client_id()
        if not client_id:
            return None
        try:
            return self.ctx.store.client(client_id)
        except ClerkAPIError:
            return None

    def current_client(self) -> Client:
        client = self.optional_client()
        if client is None:
            raise signed_out()
        return client

    def client_or_new(self) -> Client:
        """The browser's client, created (and its cookie set) on its first sign-in."""
        client = self.optional_client()
        if client is None:
            client = self.ctx.store.new_client()
            if self.get_query_argument(DEV_BROWSER_PARAM, None) is None:
                set_client_cookie(self, client.id)
        return client

    def client_session(self, client: Client, session_id: str) -> Session:
        """One of this client's signed-in sessions; anyone else's is not found."""
        if session_id not in client.session_ids:
            raise not_found(f"No session was found with id {session_id} on this client")
        return self.ctx.store.require_signed_in(session_id)

    def client_json(self, client: Client | None, **extra: Any) -> dict[str, Any] | None:
        if client is None:
            return None
        store = self.ctx.store
        live = [s for s in store.sessions_of(client) if s.signed_in]
        last = store.last_active_session(client)
        sessions = [self.session_json(s) for s in live]
        return fapi_client_json(client, sessions, last.id if last else None, **extra)

    def session_json(self, session: Session) -> dict[str, Any]:
        token = self._token(session, session.last_active_organization_id)
        return fapi_session_json(session, self.ctx.data, token)

    def write_fapi(self, response: Any, client: Client | None) -> None:
        """Clerk's envelope: the resource, and the client as it is after the call."""
        self.write_json({"response": response, "client": self.client_json(client)})

    def _token(self, session: Session, organization_id: str | None) -> str:
        """Like Clerk, tokens only for the instance's allowed origins: a GET skips the origin
        check of `check_xsrf_cookie`, and its `Origin` would otherwise become the `azp`."""
        origin = self._require_allowed_origin() or self.ctx.origins.default_origin
        return self.ctx.minter.mint(
            session,
            organization_id=organization_id,
            lifetime=self.ctx.token_lifetime,
            azp=origin,
        )


class EnvironmentHandler(FrontendAPIHandler):
    """GET|POST|PATCH /v1/environment: the instance's settings (`EnvironmentJSON`)."""

    def get(self) -> None:
        self.write_json(environment_json(APPLICATION_NAME))

    post = patch = get


class ClientHandler(FrontendAPIHandler):
    """GET /v1/client: this browser's client (`{response: ClientJSON | null}`);
    DELETE ends every session on it and forgets it."""

    def get(self) -> None:
        client = self.optional_client()
        self.write_json({"response": self.client_json(client), "client": None})

    def delete(self) -> None:
        client = self.current_client()
        self.ctx.store.end_client(client.id)
        self.write_json({"response": self.client_json(client), "client": None})


class ClientSessionsHandler(FrontendAPIHandler):
    """DELETE /v1/client/sessions: `signOut()`, every session of this client ends."""

    def delete(self) -> None:
        client = self.current_client()
        self.ctx.store.end_client(client.id)
        self.write_fapi(self.client_json(client), client)


class SessionTouchHandler(FrontendAPIHandler):
    """POST /v1/client/sessions/{id}/touch, `active_organization_id` (empty: personal):
    `setActive`, only into an organization the user belongs to."""

    def post(self, session_id: str) -> None:
        client = self.current_client()
        session = self.client_session(client, session_id)
        organization_id = self.get_body_argument("active_organization_id", None)
        if organization_id is None:
            session = self.ctx.store.activate(session.id)
        else:
            session = self.ctx.store.set_active_organization(session.id, organization_id or None)
        self.write_fapi(self.session_json(session), client)


class SessionEndHandler(FrontendAPIHandler):
    """POST /v1/client/sessions/{id}/end|remove: sign out of one session."""

    def post(self, session_id: str, action: str) -> None:
        client = self.current_client()
        if session_id not in client.session_ids:
            raise not_found(f"No session was found with id {session_id} on this client")
        store = self.ctx.store
        session = store.end(session_id) if action == "end" else store.remove(session_id)
        self.write_fapi(fapi_session_json(session, self.ctx.data, None), client)


class ClientSessionTokenHandler(FrontendAPIHandler):
    """POST /v1/client/sessions/{session_id}/tokens, form field `organization_id`:
    absent → the session's active organization, empty → personal account."""

    def post(self, session_id: str) -> None:
        client = self.current_client()
        session = self.client_session(client, session_id)
        organization_id = self.get_argument("organization_id", None)
        if organization_id is None:
            organization_id = session.last_active_organization_id
        elif not organization_id:
            organization_id = None
        elif organization_id not in self.ctx.data.organizations:
            raise not_found(f"No organization was found with id {organization_id}")
        self.write_json(token_json(self._token(session, organization_id)))


class MyMembershipsHandler(FrontendAPIHandler):
    """GET /v1/me/organization_memberships: the signed-in user's memberships, paginated
    (`{data: OrganizationMembershipJSON[], total_count}`)."""

    def get(self) -> None:
        client = self.current_client()
        session_id = self.get_query_argument("_clerk_session_id", None)
        session = (
            self.client_session(client, session_id)
            if session_id
            else self.ctx.store.last_active_session(client)
        )
        if session is None:
            raise signed_out()
        data = self.ctx.data
        memberships = data.memberships_of(session.user_id)
        offset, limit = self._page()
        page = [fapi_membership_json(m, data) for m in memberships[offset : offset + limit]]
        self.write_fapi(paginated(page, len(memberships)), client)

    def _page(self) -> tuple[int, int]:
        try:
            offset = int(self.get_query_argument("offset", "0"))
            limit = int(self.get_query_argument("limit", "10"))
        except ValueError:
            raise invalid_param("limit", "offset and limit are whole numbers.", 400) from None
        if offset < 0 or not 1 <= limit <= 500:
            raise invalid_param("limit", "offset ≥ 0 and 1 ≤ limit ≤ 500.", 400)
        return offset, limit


class DevBrowserHandler(FrontendAPIHandler):
    """POST /v1/dev_browser: clerk-js on a development domain gets a token (`{id}`) that
    names a new client; it then sends it as `__clerk_db_jwt` instead of a cookie."""

    def post(self) -> None:
        client = self.ctx.store.new_client()
        token = self.ctx.frontend.new_dev_browser(client.id)
        self.write_json({"object": "dev_browser", "id": token})


class HandshakeHandler(InstanceHandler):
    """GET /v1/client/handshake?redirect_url=: a fresh `__session` cookie, or the sign-in page.
    Only the local-instance shortcut (tests that need no clerk-js) uses it."""

    def get(self) -> None:
        redirect_url = self.get_query_argument("redirect_url", "")
        origin = self.ctx.origins.redirect_origin(redirect_url)
        if origin is None:
            raise invalid_param("redirect_url", "redirect_url is not an allowed origin.", 400)
        session = None
        client_id = client_id_from(self)
        if client_id:
            try:
                session = self.ctx.store.last_active_session(self.ctx.store.client(client_id))
            except ClerkAPIError:
                session = None
        if session is None:
            self.redirect("/sign-in?" + urlencode({"redirect_url": redirect_url}))
            return
        set_signed_in_cookies(self, self.ctx, session, azp=origin)
        self.redirect(redirect_url)
