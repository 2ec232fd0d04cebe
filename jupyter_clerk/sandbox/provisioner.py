"""SandboxProvisioner: every kernel in bubblewrap, seeing its workspace and nothing else.

Kernels run as the server's OS user, so without a sandbox a kernel of one organization can
open another organization's files, read other kernels' connection files or the server's
secrets. Here each kernel sees its workspace (read-write, at /workspace), the Python
environment and system directories (read-only), a private /tmp and home, and one private
directory for its IPC sockets. Kernels talk over IPC sockets, never TCP: a TCP port on the
shared loopback would let any other kernel subscribe to this one's output.

The kernel can rename anything in its socket directory (a symlink to another kernel's socket
in place of its own, say). So the server never connects there: once the kernel has bound its
sockets, the server hard-links each one into a directory of its own, checks that what it
linked is a socket of the sandbox's uid, and connects to those links, which the kernel cannot
change. The kernel's output goes to a pipe of its own that the server logs line by line; it
holds no descriptor of the server (the server log would be one `/proc/self/fd/1` away).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import stat
import threading
import time
from pathlib import Path
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning import LocalProvisioner
from jupyter_core.paths import secure_write
from traitlets import Instance, default

from .policy import ClerkSandbox

PROVISIONER_NAME = "clerk-sandbox"
# The kernel's socket directory and connection file (read-only), as the kernel sees them.
KERNEL_DIR = "/run/kernel"
KERNEL_CONNECTION_FILE = "/run/connection.json"
# Host sides, in the kernel's private directory: its sockets, and the server's links to them.
# One letter each: a unix socket path has at most 107 bytes.
SOCKETS, LINKS = "k", "s"
SOCKETS_TIMEOUT = 120.0  # seconds a kernel has to bind its sockets
MAX_LOGGED_LINE = 2000


def _log_output(fd: int, log: logging.Logger, name: str) -> None:
    """Log what a kernel prints to stdout/stderr (C libraries, crashes), one record per line."""
    with os.fdopen(fd, "rb") as output:
        for line in output:
            text = line[:MAX_LOGGED_LINE].decode(errors="replace").rstrip()
            log.info("Kernel %s: %s", name, text.encode("unicode_escape").decode())


def _link_socket(source: Path, target: Path, uid: int) -> bool:
    """Hard-link the kernel's socket `source` at `target`; False while it is not bound yet.

    A link is to an inode, so the check made on `target` holds for every later connect.
    """
    target.unlink(missing_ok=True)
    try:
        os.link(source, target, follow_symlinks=False)
    except FileNotFoundError:
        return False
    info = os.lstat(target)
    if not stat.S_ISSOCK(info.st_mode) or info.st_uid != uid:
        target.unlink()
        raise RuntimeError(f"The kernel replaced its socket {source.name}: not starting it.")
    return True


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
            uid, gid = self.policy.ids()
            for name in (SOCKETS, LINKS):
                (self.kernel_dir / name).mkdir(mode=0o700)
            os.chown(self.kernel_dir / SOCKETS, uid, gid)
            km.transport = "ipc"
            own = LINKS if self.policy.protections.sockets else SOCKETS
            km.ip = str(self.kernel_dir / own / "ipc")
        # Allowlisted before the kernel spec's own `env` is added on top.
        kwargs["env"] = self.policy.environment(kwargs.get("env") or os.environ)
        kwargs = await super().pre_launch(**kwargs)  # writes the server's connection file
        server_file = os.path.realpath(km.connection_file)
        kwargs["cmd"] = [arg.replace(server_file, KERNEL_CONNECTION_FILE) for arg in kwargs["cmd"]]
        self._write_kernel_connection_file(server_file)
        kwargs["cwd"] = self._workspace[0]
        return kwargs

    def _write_kernel_connection_file(self, server_file: str) -> None:
        """The server's connection info with socket paths as the kernel sees them."""
        assert self.kernel_dir is not None
        info = json.loads(Path(server_file).read_text())
        info["ip"] = f"{KERNEL_DIR}/ipc"
        path = self.kernel_dir / "connection.json"
        with secure_write(str(path)) as f:
            json.dump(info, f)
        os.chown(path, *self.policy.ids())  # the sandbox's uid reads it (bound read-only)

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        assert self.kernel_dir is not None
        workspace, inside = self._workspace
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.policy.share, workspace)
        for stale in (self.kernel_dir / SOCKETS).iterdir():  # a killed kernel's, on restart
            stale.unlink()
        read_fd, write_fd = os.pipe()
        resources = getattr(self.kernel_spec, "resource_dir", "")
        sandboxed = self.policy.command(
            cmd,
            workspace=workspace,
            cwd=inside,
            read_only=[resources] if resources else [],
            read_only_at={str(self.kernel_dir / "connection.json"): KERNEL_CONNECTION_FILE},
            writable={str(self.kernel_dir / SOCKETS): KERNEL_DIR},
            # Added by jupyter_client after pre_launch: the server's pid. The kernel would
            # watch it, see PID 1 as its parent and exit.
            unset_env=["JPY_PARENT_PID"],
            info_fd=write_fd,
        )
        output_fd, output_write_fd = os.pipe()
        if self.policy.protections.output:
            kwargs.update(stdout=output_write_fd, stderr=output_write_fd)
        try:
            info = await super().launch_kernel(sandboxed, pass_fds=(write_fd,), **kwargs)
        finally:
            os.close(write_fd)
            os.close(output_write_fd)
        name = getattr(self.parent, "kernel_id", None) or str(self.pid)
        threading.Thread(target=_log_output, args=(output_fd, self.log, name), daemon=True).start()
        try:
            self.sandbox_pid = await loop.run_in_executor(None, _read_child_pid, read_fd)
        finally:
            os.close(read_fd)
        if self.policy.protections.sockets:
            try:
                await self._link_sockets()
            except RuntimeError:
                await self.kill()
                raise
        return info

    async def _link_sockets(self) -> None:
        """Wait (bounded) for the kernel to bind its sockets, then link them for the server."""
        assert self.kernel_dir is not None
        km = self.parent
        ports = [km.shell_port, km.iopub_port, km.stdin_port, km.control_port, km.hb_port]
        waiting = {f"ipc-{port}" for port in ports}
        uid = self.policy.ids()[0]
        deadline = time.monotonic() + SOCKETS_TIMEOUT
        while waiting and await self.poll() is None and time.monotonic() < deadline:
            for name in list(waiting):
                source = self.kernel_dir / SOCKETS / name
                if _link_socket(source, self.kernel_dir / LINKS / name, uid):
                    waiting.discard(name)
            if waiting:
                await asyncio.sleep(0.02)

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
