"""The browser cookies of a signed-in client, set the way Clerk sets them on the app's site.

Cookies carry no port, so cookies the instance sets on 127.0.0.1:8765 are also sent to a
Jupyter server on 127.0.0.1:8888: that is how `__session` reaches Jupyter, as Clerk's does.
The instance's own client cookie has a distinct name so Jupyter never mistakes it for a
Clerk client token.
"""

from __future__ import annotations

import time

from tornado import web

from .base import InstanceContext
from .state import Session

SESSION_COOKIE = "__session"
CLIENT_UAT_COOKIE = "__client_uat"
CLIENT_COOKIE = "__clerk_dev_client"
_CLIENT_COOKIE_DAYS = 7


def client_id_from(handler: web.RequestHandler) -> str | None:
    return handler.get_cookie(CLIENT_COOKIE)


def set_signed_in_cookies(
    handler: web.RequestHandler, ctx: InstanceContext, session: Session, azp: str
) -> None:
    """Mint a fresh session token for the session's active organization and store it."""
    token = ctx.minter.mint(
        session,
        organization_id=session.last_active_organization_id,
        lifetime=ctx.token_lifetime,
        azp=azp,
    )
    # Readable by scripts, as Clerk's: the front end sends it as a bearer token.
    handler.set_cookie(SESSION_COOKIE, token, path="/", samesite="Lax")
    handler.set_cookie(
        CLIENT_UAT_COOKIE, str(int(time.time())), path="/", samesite="Lax", expires_days=365
    )
    set_client_cookie(handler, session.client_id)


def set_client_cookie(handler: web.RequestHandler, client_id: str) -> None:
    """HttpOnly, like Clerk's `__client`: scripts on the page never see the client handle."""
    handler.set_cookie(
        CLIENT_COOKIE,
        client_id,
        path="/",
        httponly=True,
        samesite="Lax",
        expires_days=_CLIENT_COOKIE_DAYS,
    )


def set_signed_out_cookies(handler: web.RequestHandler) -> None:
    """Clerk marks a signed-out browser with `__client_uat=0` and drops the session token."""
    handler.clear_cookie(SESSION_COOKIE, path="/")
    handler.clear_cookie(CLIENT_COOKIE, path="/")
    handler.set_cookie(CLIENT_UAT_COOKIE, "0", path="/", samesite="Lax", expires_days=365)
