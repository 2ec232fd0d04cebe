"""The tornado application: routes of the Frontend API, Backend API, sign-in pages and
development controls, all sharing one `InstanceContext`."""

from __future__ import annotations

from pathlib import Path

from tornado import web

from . import backend_api, bundles, dev_controls, fapi_signin, frontend_api, signin
from .base import InstanceContext, InstanceHandler
from .errors import not_found

_ID = r"([A-Za-z0-9_]+)"


class NotFoundHandler(InstanceHandler):
    """Every unknown path answers with Clerk's 404 body."""

    def check_xsrf_cookie(self) -> None:
        return

    def prepare(self) -> None:
        raise not_found(f"No route for {self.request.method} {self.request.path}")


def make_app(ctx: InstanceContext) -> web.Application:
    routes: list[tuple[str, type[web.RequestHandler]]] = [
        (r"/\.well-known/jwks\.json", frontend_api.PublicJWKSHandler),
        (r"/v1/environment", frontend_api.EnvironmentHandler),
        (r"/v1/client", frontend_api.ClientHandler),
        (r"/v1/client/sessions", frontend_api.ClientSessionsHandler),
        (rf"/v1/client/sessions/{_ID}/touch", frontend_api.SessionTouchHandler),
        (rf"/v1/client/sessions/{_ID}/(end|remove)", frontend_api.SessionEndHandler),
        (rf"/v1/client/sessions/{_ID}/tokens", frontend_api.ClientSessionTokenHandler),
        (r"/v1/client/sign_ins", fapi_signin.SignInsHandler),
        (rf"/v1/client/sign_ins/{_ID}", fapi_signin.SignInHandler),
        (rf"/v1/client/sign_ins/{_ID}/attempt_first_factor", fapi_signin.AttemptFirstFactorHandler),
        (r"/v1/me/organization_memberships", frontend_api.MyMembershipsHandler),
        (r"/v1/dev_browser", frontend_api.DevBrowserHandler),
        (r"/v1/client/handshake", frontend_api.HandshakeHandler),
        (r"/npm/(@clerk/clerk-js|@clerk/ui)@([^/]+)/dist/([^/]+)", bundles.BundleHandler),
        (r"/v1/jwks", backend_api.JWKSHandler),
        (rf"/v1/users/{_ID}", backend_api.UserHandler),
        (rf"/v1/users/{_ID}/organization_memberships", backend_api.UserMembershipsHandler),
        (r"/v1/sessions", backend_api.SessionsHandler),
        (rf"/v1/sessions/{_ID}", backend_api.SessionHandler),
        (rf"/v1/sessions/{_ID}/revoke", backend_api.SessionRevokeHandler),
        (rf"/v1/sessions/{_ID}/tokens", backend_api.SessionTokenHandler),
        (r"/v1/clients/verify", backend_api.ClientVerifyHandler),
        (rf"/v1/clients/{_ID}", backend_api.ClientHandler),
        (r"/sign-in", signin.SignInHandler),
        (r"/sign-out", signin.SignOutHandler),
        (r"/dev/rotate-keys", dev_controls.RotateKeysHandler),
        (r"/dev/retire-keys", dev_controls.RetireKeysHandler),
    ]
    return web.Application(
        routes,
        default_handler_class=NotFoundHandler,
        template_path=str(Path(__file__).parent / "templates"),
        xsrf_cookies=True,
        # Jupyter's `_xsrf` cookie lives on the same host (cookies ignore ports): keep apart.
        xsrf_cookie_name="__clerk_dev_xsrf",
        xsrf_cookie_kwargs={"httponly": True, "samesite": "Strict"},
        clerk_instance=ctx,
    )
