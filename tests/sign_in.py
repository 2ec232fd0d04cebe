"""Reading the sign-in page `/login` renders, as a browser would follow it."""

from __future__ import annotations

import html
import json
import re

from tornado.httpclient import HTTPResponse


def sign_in_link(response: HTTPResponse) -> str:
    """Where the page sends a person to sign in (the Account Portal or the local instance)."""
    assert response.code == 200, response.code
    match = re.search(r'id="sign-in-link"[^>]*href="([^"]*)"', response.body.decode())
    assert match, "the sign-in page has no sign-in link"
    return html.unescape(match.group(1))


def sign_in_config(response: HTTPResponse) -> dict:
    """The configuration the page's script runs with."""
    match = re.search(
        r'<script type="application/json" id="jupyter-clerk-sign-in">(.*?)</script>',
        response.body.decode(),
        re.S,
    )
    assert match, "the sign-in page has no configuration"
    return json.loads(match.group(1))
