"""Small HTTP helpers for talking to a running DevInstance like a browser or a backend."""

from __future__ import annotations

import json
import re
from http.cookies import Morsel, SimpleCookie
from typing import Any
from urllib.parse import quote, urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPResponse

from jupyter_clerk.devinstance import DevInstance

ADA = "user_2aDemoAdaLovelace"
GRACE = "user_2aDemoGraceHopper"
LINUS = "user_2aDemoLinusSolo"
VERA = "user_2aDemoVeraViewer"
ENGINES = "org_2aDemoAnalyticalEngines"
PARTNERS = "org_2aDemoDifferencePartners"
GUILD = "org_2aDemoCompilerGuild"  # Ada is not a member: the "org C" of seed 000
JUPYTER = "http://127.0.0.1:8888"
LAB = JUPYTER + "/lab?reset"


async def call(
    instance: DevInstance,
    method: str,
    path: str,
    *,
    bearer: bool | str = True,
    json_body: Any = None,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> HTTPResponse:
    """One request, never following redirects nor raising on 4xx.

    `bearer=True` sends the instance's secret key, a string sends that key, False none.
    """
    all_headers: dict[str, str] = {}
    if bearer:
        key = instance.secret_key if bearer is True else bearer
        all_headers["Authorization"] = f"Bearer {key}"
    body: str | None = None
    if json_body is not None:
        body = json.dumps(json_body)
        all_headers["Content-Type"] = "application/json"
    elif form is not None:
        body = urlencode(form)
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif method == "POST":
        body = ""
    all_headers.update(headers or {})  # explicit headers win, e.g. a lying Content-Type
    return await AsyncHTTPClient().fetch(
        instance.url + path,
        method=method,
        body=body,
        headers=all_headers,
        follow_redirects=False,
        raise_error=False,
    )


def body(response: HTTPResponse) -> Any:
    return json.loads(response.body)


def set_cookies(response: HTTPResponse) -> dict[str, Morsel[str]]:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("Set-Cookie"):
        jar.load(header)
    return dict(jar)


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def assert_clerk_error(response: HTTPResponse, status: int, code: str) -> None:
    assert response.code == status, response.body
    payload = body(response)
    assert set(payload) == {"errors", "clerk_trace_id"}
    (error,) = payload["errors"]
    assert error["code"] == code
    assert error["message"]
    assert error["long_message"]


async def open_sign_in(instance: DevInstance, redirect_url: str = LAB) -> tuple[str, dict]:
    """GET the sign-in page; return its HTML and the cookies it set (the XSRF cookie)."""
    page = await call(instance, "GET", "/sign-in?redirect_url=" + quote(redirect_url), bearer=False)
    assert page.code == 200, page.body
    return page.body.decode(), {name: m.value for name, m in set_cookies(page).items()}


async def sign_in(
    instance: DevInstance,
    user_id: str,
    jar: dict[str, str] | None = None,
    *,
    redirect_url: str = LAB,
    page_url: str | None = None,
) -> tuple[HTTPResponse, dict[str, str]]:
    """Sign in through the page like a browser; return the response and the updated jar.

    The page is opened for `page_url` (default: `redirect_url`), the form posts `redirect_url`.
    """
    jar = dict(jar or {})
    html, cookies = await open_sign_in(instance, page_url or redirect_url)
    jar.update(cookies)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', html).group(1)
    response = await call(
        instance,
        "POST",
        "/sign-in",
        bearer=False,
        form={"_xsrf": xsrf, "user_id": user_id, "redirect_url": redirect_url},
        headers={"Cookie": cookie_header(jar)},
    )
    jar.update({name: m.value for name, m in set_cookies(response).items()})
    return response, jar
