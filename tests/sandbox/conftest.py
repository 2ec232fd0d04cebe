"""Real kernels started by a real AsyncKernelManager in the sandbox, in a server-like layout:
root/orgs/org_A, root/orgs/org_B, root/users/user_A, each with a private file."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import AsyncKernelManager
from traitlets.config import Config

from jupyter_clerk.sandbox.specs import SandboxKernelSpecManager
from tests.end_to_end.conftest import (  # noqa: F401  (test_through_server: signed-in tabs)
    clerk_allowed_origins,
    clerk_config,
    jupyter_origin,
    root,
    tab,
)

SECRET_KEY = "sk_test_sandboxServerSecret"
WORKSPACES = ("orgs/org_A", "orgs/org_B", "users/user_A")


@pytest.fixture(autouse=True)
def bubblewrap_is_installed() -> None:
    """Fail, never skip: `make test` installs bubblewrap (system-deps)."""
    if shutil.which("bwrap") is None:
        pytest.fail("tests/sandbox need bubblewrap: run `make system-deps`")


@pytest.fixture
def server_root(tmp_path: Path) -> Path:
    layout = tmp_path / "root"
    for workspace in WORKSPACES:
        (layout / workspace).mkdir(parents=True)
        (layout / workspace / "private.txt").write_text(f"only for {workspace}")
    return layout


class Kernel:
    """One sandboxed kernel and a client: `run(code)` returns what the cell printed."""

    def __init__(self, km: AsyncKernelManager, loop: Any) -> None:
        self.km = km
        self.client = km.client()
        self._loop = loop

    def run(self, code: str) -> str:
        printed: list[str] = []
        errors: list[str] = []

        def collect(message: dict) -> None:
            content = message["content"]
            if message["msg_type"] == "stream":
                printed.append(content["text"])
            elif message["msg_type"] == "error":
                errors.append(content["ename"])

        reply = self._loop.run_until_complete(
            self.client.execute_interactive(code, output_hook=collect, timeout=120)
        )
        if reply["content"]["status"] != "ok":
            raise AssertionError(f"cell failed: {errors or reply['content']}")
        return "".join(printed)

    def value(self, expression: str) -> Any:
        """The JSON value of an expression evaluated in the kernel."""
        return json.loads(self.run(f"import json as _j, os; print(_j.dumps({expression}))"))

    def shutdown(self) -> None:
        self.client.stop_channels()
        if self.km.has_kernel:
            self._loop.run_until_complete(self.km.shutdown_kernel(now=True))

    def wait_ready(self) -> None:
        self._loop.run_until_complete(self.client.wait_for_ready(timeout=120))


StartKernel = Callable[..., Kernel]


@pytest.fixture
def start_kernel(jp_asyncio_loop, monkeypatch, tmp_path) -> Iterator[StartKernel]:
    """`start_kernel(workspace_dir, [kernel_name, specs], **ClerkSandbox settings)`, with
    secrets in the server's environment."""
    monkeypatch.setenv("CLERK_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("JUPYTER_TOKEN", "server-token")
    monkeypatch.setenv("MY_API_PASSWORD", "hunter2")
    kernels: list[Kernel] = []
    (tmp_path / "server-runtime").mkdir()

    def start(
        cwd: Path, kernel_name: str = "python3", specs: Any = None, **settings: Any
    ) -> Kernel:
        settings.setdefault("runtime_dir", str(tmp_path / "sandbox-runtime"))
        km = AsyncKernelManager(
            kernel_name=kernel_name,
            kernel_spec_manager=specs or SandboxKernelSpecManager(),
            connection_file=str(tmp_path / "server-runtime" / f"kernel-{uuid.uuid4()}.json"),
            config=Config({"ClerkSandbox": settings}),
        )
        jp_asyncio_loop.run_until_complete(km.start_kernel(cwd=str(cwd)))
        kernel = Kernel(km, jp_asyncio_loop)
        kernels.append(kernel)
        kernel.client.start_channels()
        kernel.wait_ready()
        return kernel

    yield start
    for kernel in kernels:
        kernel.shutdown()
