"""`/hub/clerk/sign-in`: the Hub's side of Clerk sign-in.

Clerk (clerk-js on the project's sign-in page, or the local instance) leaves a session token in
the `__session` cookie and sends the browser back here; the token is verified and the person
is logged in to the Hub, which from then on uses its own cookie. Without a usable token the
page to sign in with Clerk is shown, coming back here afterwards.
"""

from __future__ import annotations

from urllib.parse import urlencode

from jupyterhub.handlers import BaseHandler

from ..auth.publishable_key import account_portal_sign_in_url
from ..pages.browser_config import browser_config
from ..pages.login import safe_next
from ..pages.sign_in import render_sign_in_page

SESSION_COOKIE = "__session"


class ClerkHubLoginHandler(BaseHandler):
    async def get(self) -> None:
        next_url = safe_next(self.get_argument("next", ""), self.hub.base_url)
        token = self.get_cookie(SESSION_COOKIE)
        if token:
            user = await self.login_user({"session_token": token})
            if user is not None:
                self.redirect(self.get_next_url(user, default=next_url))
                return
        authenticator = self.authenticator
        back = f"{self._public_origin()}{self.request.path}?{urlencode({'next': next_url})}"
        sign_in_url = authenticator.sign_in_url or account_portal_sign_in_url(
            authenticator._frontend_api() or ""
        )
        self.set_header("Cache-Control", "no-store")
        self.finish(render_sign_in_page(browser_config(authenticator), sign_in_url, back))

    def _public_origin(self) -> str:
        """The request's origin if it is an authorized party, else the first one: never the
        Host header alone, which the client chooses."""
        origin = f"{self.request.protocol}://{self.request.host}"
        parties = self.authenticator.authorized_parties or []
        return origin if not parties or origin in parties else parties[0]
