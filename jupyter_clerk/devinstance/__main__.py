"""`python -m jupyter_clerk.devinstance`: run a local Clerk-compatible instance.

Prints (and optionally writes to an env file) the settings a Jupyter server needs to trust it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

from ..hosts import is_loopback_host
from .data import DataError, load_data
from .instance import DevInstance
from .origins import OriginError
from .session_tokens import DEFAULT_LIFETIME

BANNER = """\
################################################################################
#  DEVELOPMENT-ONLY Clerk-compatible instance with DEMO USERS.                 #
#  Anyone who can reach it can sign in as anyone. NEVER expose it to the       #
#  internet or to an untrusted network.                                        #
################################################################################"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m jupyter_clerk.devinstance", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=8765, help="port (0 picks a free one)")
    parser.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        dest="allowed_origins",
        metavar="ORIGIN",
        help="origin of the Jupyter server, e.g. http://127.0.0.1:8888 (repeatable)",
    )
    parser.add_argument("--data", type=Path, help="directory JSON (default: shipped demo users)")
    parser.add_argument("--token-lifetime", type=int, default=DEFAULT_LIFETIME, help="seconds")
    parser.add_argument("--secret-key", help="sk_test_… to use (default: random per run)")
    parser.add_argument("--env-file", type=Path, help="write the CLERK_* settings here (0600)")
    args = parser.parse_args(argv)
    if not args.allowed_origins:
        parser.error("give at least one --allowed-origin (the Jupyter server's origin)")
    if args.token_lifetime < 1:
        parser.error("--token-lifetime must be positive")
    return args


def jupyter_settings(instance: DevInstance) -> dict[str, str]:
    return {
        "CLERK_PUBLISHABLE_KEY": instance.publishable_key,
        "CLERK_SECRET_KEY": instance.secret_key,
        "CLERK_API_URL": instance.api_url,
        "CLERK_JWKS_URL": instance.jwks_url,
    }


def write_env_file(path: Path, settings: dict[str, str]) -> None:
    """Owner-only from the first byte: the file holds the secret key."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.writelines(f"{key}={value}\n" for key, value in settings.items())


async def serve(args: argparse.Namespace) -> None:
    instance = DevInstance(
        load_data(args.data),
        host=args.host,
        port=args.port,
        allowed_origins=args.allowed_origins,
        token_lifetime=args.token_lifetime,
        secret_key=args.secret_key,
    )
    await instance.start()
    settings = jupyter_settings(instance)
    print(BANNER)
    if not is_loopback_host(args.host):
        print(f"WARNING: listening on {args.host}, not loopback.")
    print(f"\nLocal Clerk instance: {instance.url}")
    print(f"Sign-in page:         {instance.url}/sign-in")
    print("\nSettings for the Jupyter server:")
    for key, value in settings.items():
        print(f"  {key}={value}")
    if args.env_file:
        write_env_file(args.env_file, settings)
        print(f"\nWrote them to {args.env_file}")
    print("\nPress Ctrl-C to stop.", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await instance.stop()
        print("Stopped.")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        asyncio.run(serve(args))
    except (DataError, OriginError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
