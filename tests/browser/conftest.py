"""A real JupyterLab with the extension behind the local Clerk instance, and Chromium.

The instance runs in a thread of this process (so tests can revoke sessions); JupyterLab
runs as `make demo` runs it, in a subprocess, with tokens that live only TOKEN_LIFETIME
seconds so that refreshing them is exercised. The front end takes the production path:
clerk-js (each module runs once with clerk-js 6 and once with 5) and Clerk's <SignIn/>.
Chromium is Debian's (`make system-deps`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from jupyter_clerk.devinstance import DevInstance
from jupyter_clerk.devinstance.demo import server_environment

TOKEN_LIFETIME = 15  # seconds: short, so a test outlives several tokens
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "browser"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    instance: DevInstance
    loop: asyncio.AbstractEventLoop
    url: str
    root: Path
    clerk_js_version: str

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def revoke_session(self, session_id: str) -> None:
        """What an administrator does in Clerk's dashboard (on the instance's own thread)."""

        async def revoke() -> None:
            self.instance.revoke_session(session_id)

        self.run(revoke())


def wait_until_up(url: str, lab: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lab.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {lab.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/login", timeout=2):  # noqa: S310 (loopback)
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    raise RuntimeError("JupyterLab did not start")


CLERK_JS_VERSIONS = ["6", "5"]


@pytest.fixture(scope="module", params=CLERK_JS_VERSIONS, ids=lambda v: f"clerk-js-{v}")
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    instance = DevInstance(allowed_origins=[url], token_lifetime=TOKEN_LIFETIME)
    asyncio.run_coroutine_threadsafe(instance.start(), loop).result(timeout=30)
    home = tmp_path_factory.mktemp("lab-home")
    root = (home / "root").resolve()
    root.mkdir()
    env = {
        **server_environment(instance, url),
        "CLERK_JS_VERSION": request.param,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
    }
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        f"--config={REPO / 'jupyter_server_config.py'}",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = (home / "lab.log").open("wb")
    lab = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_up(url, lab)
        yield Stack(instance, loop, url, root, request.param)
    finally:
        lab.terminate()
        try:
            lab.wait(timeout=20)
        except subprocess.TimeoutExpired:
            lab.kill()
        log.close()
        asyncio.run_coroutine_threadsafe(instance.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


@pytest.fixture
def jp_asyncio_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """pytest-jupyter's autouse loop, replaced here: it must not become the current loop, which
    Playwright's synchronous API would then take over and keep running past the test."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture
def jp_server_cleanup() -> None:
    """pytest-jupyter's autouse cleanup, replaced: no Jupyter server runs in this process."""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module-scoped: while Playwright's synchronous API is open, its event loop counts as
    # running in this thread, and the asyncio tests of other modules could not run.
    shutil.rmtree(ARTIFACTS, ignore_errors=True)  # screenshots of this run only
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Browser, request: pytest.FixtureRequest) -> Iterator[BrowserContext]:
    """One browser profile: its tabs share Clerk's cookies, as a person's tabs do. When the
    test fails, every tab is photographed into test-artifacts/browser/."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(30_000)
    yield context
    if request.node.stash.get(_FAILED, False):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for number, page in enumerate(context.pages):
            page.screenshot(path=ARTIFACTS / f"{request.node.name}-FAILED-tab{number}.png")
    context.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest):
    """`screenshot(page, step)` → test-artifacts/browser/<test>-<step>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, step: str) -> None:
        page.screenshot(path=ARTIFACTS / f"{request.node.name}-{step}.png")

    return take
