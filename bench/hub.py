"""JupyterHub mode, measured against the same Hub without Clerk, in one run.

1. Sign-in to a ready named server: the Hub with ClerkAuthenticator (sign-in with a Clerk
   session token, spawn with the membership check) vs the same Hub with JupyterHub's
   DummyAuthenticator (form login, plain spawn). Target: ≤ 1.2×.
2. Requests per second of `GET /api/contents` in a hub-mode single-user server (Hub identity
   plus the workspace authorizer) vs a plain `jupyterhub-singleuser`, through the same proxy.
   Target: ≥ 0.9×.
3. 200 concurrent `refresh_user` calls for a few people: Backend API calls per person per
   cache lifetime. Target: ≤ 1 per kind of lookup (session, memberships).

    .venv/bin/python -m bench.hub [--spawns 3] [--requests 400]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import urllib.parse
from pathlib import Path
from types import SimpleNamespace

from jupyter_clerk.devinstance import DevInstance
from jupyter_clerk.hub.names import server_name
from tests.hub.stack import ADA, ENGINES, GRACE, PARTNERS, VERA, Browser, Hub, run_hub

PEOPLE = [(ADA, ENGINES), (GRACE, PARTNERS), (VERA, ENGINES), (ADA, PARTNERS)]
# The baseline: JupyterHub's own DummyAuthenticator, plain single-user servers.
DUMMY = """
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.services = []
c.JupyterHub.load_roles = []
c.Spawner.args = (["--allow-root"] if os.geteuid() == 0 else []) + [
    "--ClerkApp.configure_server=False"
]
"""


def wait_ready(browser: Browser, user: str, name: str, timeout: float = 120) -> None:
    path = f"/user/{urllib.parse.quote(user)}/{name}/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, url, _ = browser.get(path)
        if status == 200 and url.startswith(browser.url + path):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{user}/{name} did not start")


def clerk_sign_in_and_spawn(hub: Hub, user: str, org: str) -> tuple[float, Browser]:
    session = hub.in_instance(hub.instance.create_session, user)
    token = hub.in_instance(hub.instance.session_token, session.id)
    browser = Browser(hub.url)
    browser.set_cookie("__session", token)
    start = time.perf_counter()
    status, _, _ = browser.get("/hub/clerk/sign-in?next=%2Fhub%2Fhome")
    assert status == 200, status
    browser.get(f"/hub/spawn/{urllib.parse.quote(user)}/{server_name(org)}")
    wait_ready(browser, user, server_name(org))
    return time.perf_counter() - start, browser


def dummy_sign_in_and_spawn(hub: Hub, user: str, org: str) -> tuple[float, Browser]:
    user = user.lower()  # DummyAuthenticator's normalize_username lowercases
    browser = Browser(hub.url)
    browser.get("/hub/login")  # the form's _xsrf cookie
    start = time.perf_counter()
    form = urllib.parse.urlencode(
        {
            "username": user,
            "password": "x",
            **{"_xsrf": browser.xsrf_headers("/hub/login").get("X-XSRFToken", "")},
        }
    ).encode()
    status, _, _ = browser.get("/hub/login?next=%2Fhub%2Fhome", method="POST", body=form)
    assert status == 200, status
    browser.get(f"/hub/spawn/{urllib.parse.quote(user)}/{server_name(org)}")
    wait_ready(browser, user, server_name(org))
    return time.perf_counter() - start, browser


def throughput(pairs: list[tuple[Browser, str]], requests: int, batch: int = 25) -> list[float]:
    """Requests per second for each (browser, path), measured in alternating batches so that
    both sides see the same load on a shared machine."""
    for browser, path in pairs:
        for _ in range(20):  # warm up: the Hub's token check is cached after the first
            browser.get(path)
    spent = [0.0] * len(pairs)
    for _ in range(requests // batch):
        for index, (browser, path) in enumerate(pairs):
            start = time.perf_counter()
            for _ in range(batch):
                status, _, _ = browser.get(path)
                assert status == 200, status
            spent[index] += time.perf_counter() - start
    return [(requests // batch * batch) / seconds for seconds in spent]


def contents_path(user: str, org: str) -> str:
    return f"/user/{urllib.parse.quote(user)}/{server_name(org)}/api/contents/"


async def refreshes(count: int) -> dict[str, float]:
    from traitlets.config import Config

    from jupyter_clerk.hub.authenticator import ClerkAuthenticator

    instance = DevInstance(allowed_origins=["http://127.0.0.1:8000"])
    await instance.start()
    try:
        config = Config()
        config.ClerkAuthenticator.publishable_key = instance.publishable_key
        config.ClerkAuthenticator.secret_key = instance.secret_key
        config.ClerkAuthenticator.api_url = instance.api_url
        config.ClerkAuthenticator.allow_local_instance = True
        config.ClerkAuthenticator.authorized_parties = ["http://127.0.0.1:8000"]
        authenticator = ClerkAuthenticator(config=config)
        people = [ADA, GRACE, VERA]
        users = []
        for person in people:
            session = instance.create_session(person)
            state = {"session_id": session.id, "memberships": []}
            users.append(SimpleNamespace(name=person, get_auth_state=_returning(state)))
        results = await asyncio.gather(
            *(authenticator.refresh_user(users[i % len(users)]) for i in range(count))
        )
        assert all(r not in (False, None) for r in results)
        return {
            "session": instance.faults.calls_to(r"^/v1/sessions/sess_") / len(people),
            "memberships": instance.faults.calls_to(r"/organization_memberships") / len(people),
        }
    finally:
        await instance.stop()


def _returning(value):
    async def get() -> object:
        return value

    return get


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spawns", type=int, default=3)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    # Both Hubs run at once and are measured in turns, so a busy machine slows both alike.
    with (
        tempfile.TemporaryDirectory() as tmp,
        run_hub(Path(tmp) / "dummy", extra=DUMMY, webhooks=False) as dummy,
        run_hub(Path(tmp) / "clerk") as clerk,
    ):
        dummy_times, clerk_times = [], []
        for user, org in PEOPLE[: args.spawns]:
            elapsed, dummy_browser = dummy_sign_in_and_spawn(dummy, user, org)
            dummy_times.append(elapsed)
            elapsed, clerk_browser = clerk_sign_in_and_spawn(clerk, user, org)
            clerk_times.append(elapsed)
        user, org = PEOPLE[args.spawns - 1]
        dummy_rps, clerk_rps = throughput(
            [
                (dummy_browser, contents_path(user.lower(), org)),
                (clerk_browser, contents_path(user, org)),
            ],
            args.requests,
        )
        dummy_spawn = statistics.median(dummy_times)
        clerk_spawn = statistics.median(clerk_times)
    calls = asyncio.run(refreshes(200))
    print(f"sign-in to ready named server (median of {args.spawns}):")
    print(f"  DummyAuthenticator {dummy_spawn:6.2f} s")
    print(
        f"  ClerkAuthenticator {clerk_spawn:6.2f} s   ratio {clerk_spawn / dummy_spawn:.2f}x"
        "  (target <= 1.2x)"
    )
    print(f"GET /api/contents in a single-user server ({args.requests} requests):")
    print(f"  plain jupyterhub-singleuser {dummy_rps:7.0f} req/s")
    print(
        f"  hub mode (Clerk authorizer) {clerk_rps:7.0f} req/s   ratio "
        f"{clerk_rps / dummy_rps:.2f}x  (target >= 0.9x)"
    )
    print("200 concurrent refresh_user calls, Backend API calls per person per cache lifetime:")
    print(
        f"  session lookups {calls['session']:.2f}, membership lookups "
        f"{calls['memberships']:.2f}  (target <= 1 each)"
    )


if __name__ == "__main__":
    main()
