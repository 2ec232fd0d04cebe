"""A real JupyterHub (with configurable-http-proxy and local single-user servers) behind the
local Clerk instance, as `make hub-demo` runs it; used by the tests and `bench.hub`.

The instance runs in a thread of this process, so callers can revoke sessions and memberships
the way an administrator does in Clerk's dashboard; its webhooks go to the Hub's webhook
service through the proxy.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookiejar import Cookie, CookieJar
from pathlib import Path
from typing import Any

from jupyter_clerk.devinstance import DevInstance
from jupyter_clerk.hub.demo import (
    hub_command,
    hub_environment,
    webhook_url,
    write_hub_config,
)
from tests.browser.conftest import free_port

ADA = "user_2aDemoAdaLovelace"
LINUS = "user_2aDemoLinusSolo"
GRACE = "user_2aDemoGraceHopper"
VERA = "user_2aDemoVeraViewer"
ENGINES = "org_2aDemoAnalyticalEngines"
PARTNERS = "org_2aDemoDifferencePartners"


@dataclass
class Hub:
    instance: DevInstance
    loop: asyncio.AbstractEventLoop
    url: str
    directory: Path
    log: Path

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def in_instance(self, function: Any, *args: Any) -> Any:
        """Call the instance's test helpers on its own thread."""

        async def call() -> Any:
            return function(*args)

        return self.run(call())

    def browser(self, user_id: str) -> Browser:
        """A cookie-keeping client signed in at Clerk (the `__session` cookie), not yet at
        the Hub."""
        session = self.in_instance(self.instance.create_session, user_id)
        token = self.in_instance(self.instance.session_token, session.id)
        client = Browser(self.url)
        client.set_cookie("__session", token)
        client.session_id = session.id
        return client

    def workspace(self, relative: str) -> Path:
        return self.directory / "workspaces" / relative


class Browser:
    """urllib with a cookie jar: follows redirects like a browser, one profile."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.session_id = ""

    def set_cookie(self, name: str, value: str) -> None:
        self.jar.set_cookie(
            Cookie(
                0,
                name,
                value,
                None,
                False,
                "127.0.0.1",
                True,
                False,
                "/",
                True,
                False,
                None,
                False,
                None,
                None,
                {},
            )
        )

    def get(
        self,
        path: str,
        *,
        method: str = "GET",
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str, bytes]:
        """(status, final URL, body) after redirects; errors are returned, not raised."""
        request = urllib.request.Request(  # noqa: S310 (loopback only)
            self.url + path, data=body, method=method, headers=headers or {}
        )
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.url, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.url, error.read()

    def cookie(self, name_prefix: str) -> list[Cookie]:
        return [c for c in self.jar if c.name.startswith(name_prefix)]

    def xsrf_headers(self, path: str) -> dict[str, str]:
        """What a page's script sends with a write: the `_xsrf` cookie of that path."""
        cookies = [c for c in self.jar if c.name == "_xsrf" and path.startswith(c.path)]
        cookies.sort(key=lambda c: len(c.path), reverse=True)
        return {"X-XSRFToken": cookies[0].value} if cookies else {}

    def send(self, method: str, path: str, body: object = None) -> int:
        """A JSON write the way the page's own script makes it (cookie and XSRF token)."""
        headers = {"Content-Type": "application/json", **self.xsrf_headers(path)}
        data = None if body is None else json.dumps(body).encode()
        return self.get(path, method=method, body=data, headers=headers)[0]


def wait_until_up(
    url: str, process: subprocess.Popen, *, webhooks: bool = True, timeout: float = 90
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterHub exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/hub/api/", timeout=2):  # noqa: S310
                if not webhooks:
                    return
                # The webhook service is routed last: wait for it too.
                urllib.request.urlopen(webhook_url(url), timeout=2)  # noqa: S310
        except urllib.error.HTTPError as error:
            if error.code == 405:  # the service answers GET with 405: it is up
                return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise RuntimeError("JupyterHub did not start")


@contextmanager
def run_hub(directory: Path, extra: str = "", *, webhooks: bool = True) -> Iterator[Hub]:
    """A Hub in a subprocess with its own local Clerk instance; `extra` is appended to its
    jupyterhub_config.py."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    instance = DevInstance(allowed_origins=[url], token_lifetime=600)
    instance.configure_webhooks(webhook_url(url))
    asyncio.run_coroutine_threadsafe(instance.start(), loop).result(timeout=30)
    config = write_hub_config(directory, url, (free_port(), free_port(), free_port()), extra=extra)
    log_path = directory / "hub.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        hub_command(config),
        env=hub_environment(instance, url),
        cwd=directory,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until_up(url, process, webhooks=webhooks)
        yield Hub(instance, loop, url, directory, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        asyncio.run_coroutine_threadsafe(instance.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
