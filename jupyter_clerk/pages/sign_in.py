"""The sign-in page `/login` renders: Clerk's sign-in UI, or the way to the local instance.

The page loads clerk-js (6 with `@clerk/ui`, or 5) from the instance's Frontend API, or its
proxy URL, and mounts Clerk's <SignIn/>; a person whose Clerk session is still alive only gets
a fresh `__session` cookie and goes on; a Frontend API that cannot be reached is named in an
error, not shown as a sign-in form. With the local-instance shortcut (tests only) or no
publishable key it continues to the configured sign-in URL, whose handshake refreshes a live
session without asking again.
Either way the person comes back to `next`, already checked to be a path on this server.
"""

from __future__ import annotations

import json
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import urlencode

_TEMPLATE = Template((Path(__file__).parent / "templates" / "sign_in.html").read_text("utf-8"))


def sign_in_link(sign_in_url: str | None, back: str) -> str | None:
    if not sign_in_url:
        return None
    separator = "&" if "?" in sign_in_url else "?"
    return f"{sign_in_url}{separator}{urlencode({'redirect_url': back})}"


def _script_json(value: dict[str, Any]) -> str:
    """JSON that cannot end the <script> element it is embedded in."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _attribute(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )


def render_sign_in_page(clerk: dict[str, Any], sign_in_url: str | None, back: str) -> str:
    """The page; `clerk` is the browser config (empty: no clerk-js, only the link)."""
    link = sign_in_link(sign_in_url, back) or ""
    mode = "clerk" if clerk and not clerk.get("localInstance") else "redirect"
    config = {"mode": mode, "next": back, "signInUrl": link, **clerk}
    return _TEMPLATE.substitute(config=_script_json(config), link=_attribute(link))
