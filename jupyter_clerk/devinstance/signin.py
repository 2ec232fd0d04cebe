"""Development sign-in and sign-out pages: pick a demo user, get Clerk's cookies, go back.

This replaces Clerk's hosted sign-in for local work. Redirect targets must be on an allowed
origin, so the page can never be used to bounce a browser to another site.
"""

from __future__ import annotations

from .base import InstanceHandler
from .cookies import client_id_from, set_signed_in_cookies, set_signed_out_cookies
from .errors import ClerkAPIError, invalid_param, missing_param, not_found
from .state import Client, Session


class _BrowserHandler(InstanceHandler):
    def redirect_target(self) -> tuple[str, str]:
        """The validated `redirect_url` (default: the first allowed origin) and its origin."""
        default = self.ctx.origins.default_origin
        redirect_url = self.get_argument("redirect_url", None) or (default and default + "/")
        origin = self.ctx.origins.redirect_origin(redirect_url)
        if redirect_url is None or origin is None:
            raise invalid_param("redirect_url", "redirect_url is not an allowed origin.", 400)
        return redirect_url, origin

    def current_client(self) -> Client | None:
        client_id = client_id_from(self)
        try:
            return self.ctx.store.client(client_id) if client_id else None
        except ClerkAPIError:
            return None


class SignInHandler(_BrowserHandler):
    """GET renders the demo users; POST signs one in (XSRF-protected by tornado)."""

    def get(self) -> None:
        redirect_url, _ = self.redirect_target()
        data = self.ctx.data
        users = [
            (user, [data.organizations[m.organization_id] for m in data.memberships_of(user.id)])
            for user in data.users.values()
        ]
        self.set_header("Cache-Control", "no-store")
        self.render("sign_in.html", users=users, redirect_url=redirect_url)

    def post(self) -> None:
        redirect_url, origin = self.redirect_target()
        user_id = self.get_body_argument("user_id", "")
        if not user_id:
            raise missing_param("user_id")
        if user_id not in self.ctx.data.users:
            raise not_found(f"No user was found with id {user_id}")
        session = self._sign_in(user_id)
        set_signed_in_cookies(self, self.ctx, session, azp=origin)
        self.redirect(redirect_url)

    def _sign_in(self, user_id: str) -> Session:
        """Reuse the user's live session on this browser's client, or add one (multi-session)."""
        store = self.ctx.store
        client = self.current_client()
        if client is not None:
            for session in store.sessions_of(client):
                if session.user_id == user_id and session.signed_in:
                    return store.activate(session.id)
        memberships = self.ctx.data.memberships_of(user_id)
        return store.sign_in(
            user_id,
            client_id=client.id if client else None,
            organization_id=memberships[0].organization_id if memberships else None,
        )


class SignOutHandler(_BrowserHandler):
    """GET|POST /sign-out: end every session of this browser's client and clear the cookies."""

    def check_xsrf_cookie(self) -> None:
        # Signing out is harmless to forge, and the app's own sign-out button cannot know
        # the instance's XSRF token.
        return

    def get(self) -> None:
        wants_redirect = self.get_argument("redirect_url", None) is not None
        target = self.redirect_target()[0] if wants_redirect else "/sign-in"
        client = self.current_client()
        if client is not None:
            self.ctx.store.end_client(client.id)
        set_signed_out_cookies(self)
        self.redirect(target)

    post = get
