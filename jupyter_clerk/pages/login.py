"""Login and logout pages: Jupyter's side of Clerk sign-in (Clerk itself does the signing in)."""

from __future__ import annotations

from urllib.parse import urlencode, urlparse

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import JupyterHandler
from tornado.escape import xhtml_escape

from .browser_config import browser_config
from .sign_in import render_sign_in_page

CLERK_COOKIES = ("__session", "__client_uat")


def safe_next(value: str, default: str) -> str:
    """A redirect target on this server only: a local absolute path, nothing else."""
    if not value.startswith("/") or value.startswith("//"):
        return default
    if any(c in value for c in "\\\r\n\t\x00") or not value.isprintable():
        return default
    parsed = urlparse(value)
    if parsed.scheme or parsed.netloc:
        return default
    return value


def public_origin(handler: JupyterHandler) -> str:
    """Where people reach this server: the request's origin if it is an authorized party,
    else the first one. Not the Host header alone, which the client chooses."""
    origin = f"{handler.request.protocol}://{handler.request.host}"
    parties = getattr(handler.identity_provider, "authorized_parties", None) or []
    return origin if not parties or origin in parties else parties[0]


class ClerkLoginHandler(JupyterHandler):
    """The sign-in page: Clerk's sign-in (or the local instance's), then back to `next`."""

    @allow_unauthenticated
    def get(self) -> None:
        target = safe_next(self.get_argument("next", ""), self.base_url)
        if self.current_user:
            self.redirect(target)
            return
        provider = self.identity_provider
        clerk = browser_config(provider)  # type: ignore[arg-type]
        sign_in_url = provider.sign_in_url_for_server()  # type: ignore[attr-defined]
        if not clerk and not sign_in_url:
            self.set_status(503)
            self.finish(
                "<!doctype html><title>Sign-in unavailable</title><p>Sign-in is not configured "
                "on this server: set c.ClerkIdentityProvider.sign_in_url (CLERK_SIGN_IN_URL).</p>"
            )
            return
        back = f"{public_origin(self)}{target}"
        self.set_header("Cache-Control", "no-store")
        self.finish(render_sign_in_page(clerk, sign_in_url, back))


class ClerkLogoutHandler(JupyterHandler):
    """Forgets Clerk's cookies here and, when configured, signs out of Clerk too."""

    @allow_unauthenticated
    def get(self) -> None:
        for name in CLERK_COOKIES:
            self.clear_cookie(name, path="/")
        login = f"{public_origin(self)}{self.base_url}login"
        sign_out_url = self.identity_provider.sign_out_url  # type: ignore[attr-defined]
        if sign_out_url:
            self.redirect(f"{sign_out_url}?{urlencode({'redirect_url': login})}")
            return
        self.finish(
            "<!doctype html><title>Signed out</title><p>You have left Jupyter. "
            f'<a href="{xhtml_escape(login)}">Sign in again</a></p>'
        )
