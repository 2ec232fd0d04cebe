"""SandboxProvisioner: every kernel in bubblewrap, seeing its workspace and nothing else.

Kernels run as the server's OS user, so without a sandbox a kernel of one organization can
open another organization's files, read other kernels' connection files or the server's
secrets. Here each kernel sees its workspace (read-write, at /workspace), the Python
environment and system directories (read-only), a private /tmp and home, and one private
directory with its connection file and IPC sockets. Kernels talk over IPC sockets, never TCP:
a TCP port on the shared loopback would let any other kernel subscribe to this one's output.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
from pathlib import Path
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning import LocalProvisioner
from jupyter_core.paths import secure_write
from traitlets import Instance, default

from .policy import ClerkSandbox

PROVISIONER_NAME = "clerk-sandbox"
# The kernel's private directory, as the kernel sees it.
KERNEL_DIR = "/run/kernel"


def _read_child_pid(fd: int) -> int | None:
    """The host pid of the sandbox's init, from bwrap's --info-fd JSON.

    Read to the end: bwrap closes the pipe once it has written it, and dies of SIGPIPE if
    the reader goes away early.
    """
    data = b""
    while chunk := os.read(fd, 4096):
        data += chunk
    return int(json.loads(data)["child-pid"]) if data else None


class SandboxProvisioner(LocalProvisioner):  # type: ignore[misc]
    """A LocalProvisioner whose kernel process is `bwrap … -- <kernel command>`."""

    kernel_dir: Path | None = None  # host side of KERNEL_DIR; lives until the kernel is gone
    sandbox_pid: int | None = None  # host pid of the sandbox's init; its session holds the kernel
    _workspace: tuple[str, str] = ("", "")

    policy = Instance(ClerkSandbox)

    @default("policy")
    def _default_policy(self) -> ClerkSandbox:
        return ClerkSandbox(parent=self)

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        km = self.parent
        server_root = getattr(km.parent, "root_dir", None)  # the server's kernel manager
        self._workspace = self.policy.locate(kwargs.get("cwd"), server_root)
        if self.kernel_dir is None:  # a restart keeps its directory and sockets' names
            self.kernel_dir = self.policy.private_dir()
            km.transport = "ipc"
            km.ip = str(self.kernel_dir / "ipc")
        kwargs = await super().pre_launch(**kwargs)  # writes the server's connection file
        server_file = os.path.realpath(km.connection_file)
        kwargs["cmd"] = [
            arg.replace(server_file, self._kernel_connection_file(server_file))
            for arg in kwargs["cmd"]
        ]
        kwargs["env"] = self.policy.environment(kwargs["env"])
        kwargs["cwd"] = self._workspace[0]
        return kwargs

    def _kernel_connection_file(self, server_file: str) -> str:
        """The server's connection info with socket paths as the kernel sees them."""
        assert self.kernel_dir is not None
        info = json.loads(Path(server_file).read_text())
        info["ip"] = f"{KERNEL_DIR}/ipc"
        with secure_write(str(self.kernel_dir / "connection.json")) as f:
            json.dump(info, f)
        return f"{KERNEL_DIR}/connection.json"

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        assert self.kernel_dir is not None
        read_fd, write_fd = os.pipe()
        workspace, inside = self._workspace
        resources = getattr(self.kernel_spec, "resource_dir", "")
        sandboxed = self.policy.command(
            cmd,
            workspace=workspace,
            cwd=inside,
            read_only=[resources] if resources else [],
            writable={str(self.kernel_dir): KERNEL_DIR},
            # Added by jupyter_client after pre_launch: the server's pid. The kernel would
            # watch it, see PID 1 as its parent and exit.
            unset_env=["JPY_PARENT_PID"],
            info_fd=write_fd,
        )
        try:
            info = await super().launch_kernel(sandboxed, pass_fds=(write_fd,), **kwargs)
        finally:
            os.close(write_fd)
        try:
            loop = asyncio.get_running_loop()
            self.sandbox_pid = await loop.run_in_executor(None, _read_child_pid, read_fd)
        finally:
            os.close(read_fd)
        return info

    async def send_signal(self, signum: int) -> None:
        """Signals go to the kernel's session inside the sandbox (an interrupt reaches the
        kernel, not bwrap, which would die of it); SIGKILL to bwrap, taking the whole PID
        namespace with it."""
        if self.sandbox_pid and signum != signal.SIGKILL and await self.poll() is None:
            try:
                os.killpg(self.sandbox_pid, signum)
                return
            except ProcessLookupError:
                pass
        await super().send_signal(signum)

    async def cleanup(self, restart: bool = False) -> None:
        await super().cleanup(restart=restart)
        self.sandbox_pid = None
        if not restart and self.kernel_dir is not None:
            shutil.rmtree(self.kernel_dir, ignore_errors=True)
            self.kernel_dir = None
