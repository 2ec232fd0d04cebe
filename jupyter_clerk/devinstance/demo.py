"""`make demo`: the local Clerk instance and JupyterLab behind it, with demo people to be.

Development only. Both listen on loopback; the instance signs anyone in as any demo user.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from .__main__ import BANNER, jupyter_settings
from .data import DirectoryData
from .instance import DevInstance
from .preflight import PreflightError, demo_port, require_free_ports

# Demo tokens outlive Clerk's 60 s so a page keeps working between reloads; a reload (or
# the sign-in link) gets a fresh one from the instance without asking for the user again.
DEMO_TOKEN_LIFETIME = 3600
# How long JupyterLab may take to answer its first request before the demo gives up.
STARTUP_TIMEOUT = 120.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Ports default to JUPYTER_PORT and CLERK_PORT; both are checked free in `run`."""
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.splitlines()[0])
    parser.add_argument("--clerk-port", type=int, default=demo_port("CLERK_PORT"))
    parser.add_argument("--port", type=int, default=demo_port("JUPYTER_PORT"))
    parser.add_argument("--root", type=Path, default=Path(".demo/root"))
    parser.add_argument("--token-lifetime", type=int, default=DEMO_TOKEN_LIFETIME)
    return parser.parse_args(argv)


def people(data: DirectoryData) -> str:
    lines = []
    for user in data.users.values():
        orgs = [
            f"{data.organizations[m.organization_id].name} ({m.role})"
            for m in data.memberships_of(user.id)
        ]
        where = ", ".join(orgs) or "no organizations"
        lines.append(f"  - {user.display_name:<16} {user.email:<20} {where}")
    return "\n".join(lines)


def server_environment(
    instance: DevInstance, jupyter_origin: str, *, shortcut: bool = False
) -> dict[str, str]:
    """Jupyter's settings for the instance: Clerk's own <SignIn/> through clerk-js, or with
    `shortcut` (tests that need no clerk-js) the instance's sign-in page and token endpoint."""
    environment = {
        **os.environ,
        **jupyter_settings(instance),
        "CLERK_ALLOW_LOCAL_INSTANCE": "1",
        "CLERK_AUTHORIZED_PARTIES": jupyter_origin,
        # The browser reaches the instance's Frontend API over plain http (clerk-js: proxy URL).
        "CLERK_FRONTEND_API_URL": instance.url,
    }
    if shortcut:
        environment.update(
            CLERK_LOCAL_INSTANCE_SHORTCUT="1",
            CLERK_SIGN_IN_URL=f"{instance.url}/v1/client/handshake",
            CLERK_SIGN_OUT_URL=f"{instance.url}/sign-out",
        )
    else:
        environment["CLERK_SIGN_IN_HINT"] = (
            "Demo: sign in as a demo person (ada@example.com, grace@example.com, …) "
            f"with the password {instance.password}"
        )
    return environment


async def jupyter_answers(url: str, lab: asyncio.subprocess.Process) -> bool:
    """True once JupyterLab answers HTTP at all; False if it exits or never answers."""
    client = AsyncHTTPClient()
    deadline = asyncio.get_running_loop().time() + STARTUP_TIMEOUT
    while lab.returncode is None and asyncio.get_running_loop().time() < deadline:
        try:
            await client.fetch(url, request_timeout=2, follow_redirects=False)
            return True
        except HTTPClientError:
            return True  # a 302 to sign-in or a 401 is an answer
        except OSError:
            pass
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(lab.wait(), 0.25)
    return False


async def run(args: argparse.Namespace) -> int:
    jupyter_origin = f"http://127.0.0.1:{args.port}"
    require_free_ports({"JUPYTER_PORT": args.port, "CLERK_PORT": args.clerk_port})
    instance = DevInstance(
        port=args.clerk_port,
        allowed_origins=[jupyter_origin],
        token_lifetime=args.token_lifetime,
    )
    await instance.start()
    try:
        return await run_lab(args, instance, jupyter_origin)
    finally:
        await instance.stop()


async def run_lab(args: argparse.Namespace, instance: DevInstance, jupyter_origin: str) -> int:
    args.root.mkdir(parents=True, exist_ok=True)
    config = Path(__file__).resolve().parents[2] / "jupyter_server_config.py"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.port={args.port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={args.root.resolve()}",
    ]
    if config.exists():
        command.append(f"--config={config}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI machines often run as root
    print(BANNER)
    print(f"\nLocal Clerk instance (plain http, loopback only): {instance.url}")
    print("Starting JupyterLab…", flush=True)
    lab = await asyncio.create_subprocess_exec(
        *command, env=server_environment(instance, jupyter_origin)
    )
    stopping = asyncio.Event()

    def stop() -> None:
        stopping.set()
        lab.terminate()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop)
    if await jupyter_answers(f"{jupyter_origin}/api", lab) and lab.returncode is None:
        print(
            f"\nOpen {jupyter_origin}/lab and sign in as one of the demo people "
            f"(their email, password {instance.password}):\n"
            f"{people(instance.data)}\n\nPress Ctrl-C to stop.",
            flush=True,
        )
    elif lab.returncode is None:
        print(f"\nJupyterLab did not answer within {STARTUP_TIMEOUT:.0f} s; stopping it.")
        lab.terminate()
    code = await lab.wait()
    if stopping.is_set():
        return 0
    print(f"\nJupyterLab stopped (exit status {code}); see its log above.", file=sys.stderr)
    return code if code > 0 else 1


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(argv)
        return asyncio.run(run(args))
    except (PreflightError, OSError) as exc:
        # Expected failures (a port taken meanwhile, an unwritable root) need no traceback.
        print(f"make demo: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
