"""Requests per second of `GET /api/contents`: Clerk identity provider vs Jupyter's token auth.

Two real Jupyter servers, started one after the other in subprocesses with the same
settings but the identity provider, each loaded by the same client over loopback.
Target: ≥ 0.9× Jupyter's own token auth.

    .venv/bin/python -m bench.http [--requests 3000] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tornado.httpclient import AsyncHTTPClient

from bench.verify import ISSUER, PARTY, make_token
from jupyter_clerk.devinstance.signing import SigningKey

WARM_UP = 50  # requests `load` makes before it starts the clock


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def populate(directory: str, files: int = 20) -> None:
    os.makedirs(directory, exist_ok=True)
    for n in range(files):
        with open(os.path.join(directory, f"file{n}.txt"), "w") as handle:
            handle.write("x" * 100)


@contextmanager
def server(args: list[str], env: dict[str, str]) -> Iterator[tuple[str, str]]:
    """A Jupyter server in a subprocess: yields its base URL and its root directory."""
    with server_process(args, env) as (base_url, root, _process):
        yield base_url, root


@contextmanager
def server_process(
    args: list[str], env: dict[str, str]
) -> Iterator[tuple[str, str, subprocess.Popen]]:
    """`server`, with the process itself (to read the CPU time it spends)."""
    port = free_port()
    root = tempfile.mkdtemp(prefix="bench-root-")
    command = [
        sys.executable,
        "-m",
        "jupyter_server",
        f"--ServerApp.port={port}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.open_browser=False",
        "--ServerApp.log_level=WARN",
        "--allow-root",
        *args,
    ]
    process = subprocess.Popen(
        command,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/", root, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process, all its threads (Linux)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(
    url: str,
    headers: dict[str, str],
    requests: int,
    concurrency: int,
    *,
    method: str = "GET",
    body: str | None = None,
) -> float:
    """Requests per second of one request repeated by `concurrency` clients."""
    client = AsyncHTTPClient(max_clients=concurrency)

    async def one() -> None:
        response = await client.fetch(url, method=method, headers=headers, body=body)
        assert response.code in (200, 201), response.code

    for _ in range(WARM_UP):  # caches on both sides
        await one()
    remaining = iter(range(requests))

    async def worker() -> None:
        for _ in remaining:
            await one()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return requests / (time.perf_counter() - start)


def measure(args: list[str], env: dict[str, str], headers: dict[str, str], opts) -> float:
    with server(args, env) as (base_url, root):
        populate(root)
        return asyncio.run(
            load(base_url + "api/contents", headers, opts.requests, opts.concurrency)
        )


# The identity provider alone, with Jupyter's stock managers: this benchmark is about auth.
CLERK_PROVIDER_ONLY = [
    f"--ClerkIdentityProvider.issuer={ISSUER}",
    "--ServerApp.identity_provider_class=jupyter_clerk.ClerkIdentityProvider",
    "--ServerApp.jpserver_extensions={'jupyter_clerk': False}",
]


def clerk_environment(key: SigningKey) -> dict[str, str]:
    return {"CLERK_JWT_KEY": key.public_pem(), "CLERK_AUTHORIZED_PARTIES": PARTY}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    opts = parser.parse_args()

    key = SigningKey.generate()
    jupyter_token = secrets.token_hex(16)
    baseline = (
        [
            f"--IdentityProvider.token={jupyter_token}",
            "--ServerApp.jpserver_extensions={'jupyter_clerk': False}",
        ],
        {},
        {"Authorization": f"token {jupyter_token}"},
    )
    clerk = (
        CLERK_PROVIDER_ONLY,
        clerk_environment(key),
        {"Authorization": f"Bearer {make_token(key)}"},
    )
    token_rates, clerk_rates = [], []
    for _ in range(opts.rounds):  # interleaved, so drift in the machine hits both alike
        token_rates.append(measure(*baseline, opts))
        clerk_rates.append(measure(*clerk, opts))
    token_rps, clerk_rps = max(token_rates), max(clerk_rates)
    print(
        f"GET /api/contents, {opts.requests} requests × {opts.rounds} rounds, "
        f"concurrency {opts.concurrency} (best round)"
    )
    print(f"  Jupyter token auth:           {token_rps:8.0f} req/s")
    print(f"  Clerk identity provider:      {clerk_rps:8.0f} req/s")
    print(f"  ratio:                        {clerk_rps / token_rps:8.2f}×  (target ≥ 0.9×)")


if __name__ == "__main__":
    main()
