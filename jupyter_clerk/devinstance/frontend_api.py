"""Frontend API: what browsers call, authenticated by the instance's client cookie.

`POST /v1/client/sessions/{id}/tokens` is how Clerk's front-end SDK refreshes the session
token every minute (optionally for another organization, which is what lets one person keep
different organizations open in different tabs); the handshake refreshes the `__session`
cookie by redirect when a page load finds it expired.
"""

from __future__ import annotations

from urllib.parse import urlencode

from .base import InstanceHandler
from .cookies import client_id_from, set_signed_in_cookies
from .errors import ClerkAPIError, invalid_param, not_found, signed_out
from .resources import token_json
from .state import Client


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
        origin = self.request.headers.get("Origin")
        if origin is not None and not self.ctx.origins.allows_origin(origin):
            raise ClerkAPIError(
                403, "origin_invalid", "invalid origin", f"Origin {origin!r} is not allowed."
            )

    def options(self, *args: str) -> None:
        self.check_xsrf_cookie()
        self.set_header("Access-Control-Allow-Methods", "POST, OPTIONS")
        self.set_header("Access-Control-Allow-Headers", "Content-Type")
        self.set_header("Access-Control-Max-Age", "600")
        self.set_status(204)
        self.finish()

    def current_client(self) -> Client:
        client_id = client_id_from(self)
        if not client_id:
            raise signed_out()
        try:
            return self.ctx.store.client(client_id)
        except ClerkAPIError:
            raise signed_out() from None


class ClientSessionTokenHandler(FrontendAPIHandler):
    """POST /v1/client/sessions/{session_id}/tokens, form field `organization_id`:
    absent → the session's active organization, empty → personal account."""

    def post(self, session_id: str) -> None:
        client = self.current_client()
        if session_id not in client.session_ids:
            raise not_found(f"No session was found with id {session_id} on this client")
        session = self.ctx.store.require_signed_in(session_id)
        organization_id = self.get_argument("organization_id", None)
        if organization_id is None:
            organization_id = session.last_active_organization_id
        elif not organization_id:
            organization_id = None
        elif organization_id not in self.ctx.data.organizations:
            raise not_found(f"No organization was found with id {organization_id}")
        origin = self.request.headers.get("Origin") or self.ctx.origins.default_origin
        token = self.ctx.minter.mint(
            session,
            organization_id=organization_id,
            lifetime=self.ctx.token_lifetime,
            azp=origin,
        )
        self.write_json(token_json(token))


class HandshakeHandler(InstanceHandler):
    """GET /v1/client/handshake?redirect_url=: a fresh `__session` cookie, or the sign-in page."""

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
