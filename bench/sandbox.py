"""Kernel start time and execute round-trips: sandboxed (bubblewrap, IPC) vs a plain local kernel.

Both measured in one run on the same machine, printed as ratios. The plain kernel is Jupyter's
default (local provisioner, TCP on loopback); the sandboxed one talks over IPC sockets, runs
as an unprivileged uid (when run as root) and gets its own network: pasta's user-mode network
by default, also measured with the 'loopback' and 'host' settings.
Targets: start ≤ 1.5× the plain kernel's (default network); round-trip ≤ 1.1×.

    .venv/bin/python -m bench.sandbox
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from subprocess import DEVNULL

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from traitlets.config import Config

from jupyter_clerk.sandbox.specs import SandboxKernelSpecManager

STARTS = 7
MESSAGES = 10_000


NETWORKS = ("user", "loopback", "host")


def manager(sandboxed: bool, network: str = "user") -> AsyncKernelManager:
    specs = SandboxKernelSpecManager() if sandboxed else KernelSpecManager()
    config = Config({"ClerkSandbox": {"network": network}})
    return AsyncKernelManager(kernel_name="python3", kernel_spec_manager=specs, config=config)


async def start_seconds(sandboxed: bool, workspace: str, network: str = "user") -> float:
    """Median time from start_kernel to the first kernel_info reply."""
    samples = []
    for _ in range(STARTS):
        km = manager(sandboxed, network)
        began = time.perf_counter()
        await km.start_kernel(cwd=workspace, stdout=DEVNULL, stderr=DEVNULL)
        client = km.client()
        client.start_channels()
        await client.wait_for_ready(timeout=60)
        samples.append(time.perf_counter() - began)
        client.stop_channels()
        await km.shutdown_kernel(now=True)
    return statistics.median(samples)


async def round_trip_seconds(sandboxed: bool, workspace: str) -> float:
    """Mean time of one execute_request → execute_reply, over MESSAGES sequential requests."""
    km = manager(sandboxed)
    await km.start_kernel(cwd=workspace, stdout=DEVNULL, stderr=DEVNULL)
    client = km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        for _ in range(200):  # warm-up
            client.execute("pass", store_history=False)
            await client.get_shell_msg(timeout=60)
        began = time.perf_counter()
        for _ in range(MESSAGES):
            client.execute("pass", store_history=False)
            await client.get_shell_msg(timeout=60)
        return (time.perf_counter() - began) / MESSAGES
    finally:
        client.stop_channels()
        await km.shutdown_kernel(now=True)


async def measure(workspace: str) -> dict[str, float]:
    results = {}
    for sandboxed, name in ((False, "plain"), (True, "sandboxed")):
        results[f"start, {name}"] = await start_seconds(sandboxed, workspace)
        results[f"round-trip, {name}"] = await round_trip_seconds(sandboxed, workspace)
    for network in NETWORKS[1:]:
        results[f"start, sandboxed, {network} network"] = await start_seconds(
            True, workspace, network
        )
    return results


def main() -> None:
    with tempfile.TemporaryDirectory() as workspace:
        Path(workspace).chmod(0o700)
        results = asyncio.run(measure(workspace))
    width = max(map(len, results))
    print(f"{'measurement':<{width}}  ms")
    for name, seconds in results.items():
        print(f"{name:<{width}}  {seconds * 1e3:9.3f}")
    start = results["start, sandboxed"] / results["start, plain"]
    trip = results["round-trip, sandboxed"] / results["round-trip, plain"]
    print()
    print(f"start, sandboxed vs plain:      {start:6.2f}× (target ≤ 1.5×; pasta network)")
    for network in NETWORKS[1:]:
        ratio = results[f"start, sandboxed, {network} network"] / results["start, plain"]
        print(f"  with the {network} network:{' ' * (20 - len(network))}{ratio:6.2f}×")
    print(f"round-trip, sandboxed vs plain: {trip:6.2f}× (target ≤ 1.1×)")


if __name__ == "__main__":
    main()
