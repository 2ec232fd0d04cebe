"""`make demo`: the local Clerk instance and JupyterLab behind it, with demo people to be.

Development only. Both listen on loopback; the instance signs anyone in as any demo user.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

from .__main__ import BANNER, jupyter_settings
from .data import DirectoryData
from .instance import DevInstance

# Demo tokens outlive Clerk's 60 s so a page keeps working between reloads; a reload (or
# the sign-in link) gets a fresh one from the instance without asking for the user again.
DEMO_TOKEN_LIFETIME = 3600


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.splitlines()[0])
    parser.add_argument("--clerk-port", type=int, default=int(os.environ.get("CLERK_PORT", 8765)))
    parser.add_argument("--port", type=int, default=int(os.environ.get("JUPYTER_PORT", 8888)))
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


async def run(args: argparse.Namespace) -> int:
    jupyter_origin = f"http://127.0.0.1:{args.port}"
    instance = DevInstance(
        port=args.clerk_port,
        allowed_origins=[jupyter_origin],
        token_lifetime=args.token_lifetime,
    )
    await instance.start()
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
    print(f"\nLocal Clerk instance: {instance.url}")
    print("Starting JupyterLab…", flush=True)
    lab = await asyncio.create_subprocess_exec(
        *command, env=server_environment(instance, jupyter_origin)
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, lab.terminate)
    await asyncio.sleep(3)
    if lab.returncode is None:
        print(
            f"\nOpen {jupyter_origin}/lab and sign in as one of the demo people "
            f"(their email, password {instance.password}):\n"
            f"{people(instance.data)}\n\nPress Ctrl-C to stop.",
            flush=True,
        )
    code = await lab.wait()
    await instance.stop()
    return code


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
