"""ClerkSandbox: the settings of the kernel and terminal sandbox, and the decisions made from them.

Which host paths a sandbox sees, which variables it inherits, which limits it gets, and
which directory is its workspace. Kernels (sandbox.py) and terminals (sandbox_terminals.py)
both ask this one place.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from jupyter_core.paths import jupyter_runtime_dir
from traitlets import Enum, Int, List, Unicode, default
from traitlets.config import LoggingConfigurable

from ..errors import ClerkConfigError
from ..settings_env import env_str
from ..workspaces.kernel_env import scrub_environment
from . import launcher as launcher_script
from .command import WORKSPACE, SandboxLayout, bwrap_argv
from .limits import limit_prefix
from .ownership import share_workspace

# Workspaces live at <server root>/users/<user id> and <server root>/orgs/<org id>
# (workspaces.Workspace.relative_dir); a sandbox gets one of them, whole.
WORKSPACE_PARENTS = ("users", "orgs")

SYSTEM_PATHS = [
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc/alternatives",
    "/etc/ca-certificates",
    "/etc/ssl",
    "/etc/pki",
    "/etc/fonts",
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/host.conf",
    "/etc/gai.conf",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/group",
    "/etc/localtime",
    "/etc/timezone",
    "/etc/mime.types",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
]

# Besides environment.SECRET_PATTERNS: server paths, tokens and agents a sandbox has no use for.
HIDDEN_ENVIRONMENT = [
    "JUPYTER_*",
    "JUPYTERHUB_*",
    "*TOKEN*",
    "*PASSWORD*",
    "*PASSWD*",
    "*CREDENTIAL*",
    "AWS_*",
    "SSH_AUTH_SOCK",
    "GPG_AGENT_INFO",
    "DBUS_SESSION_BUS_ADDRESS",
    "XDG_RUNTIME_DIR",
    "KRB5CCNAME",
]


LAUNCHER = str(Path(__file__).with_name("launcher.py"))
NETWORKS = ("user", "loopback", "host")
NETWORK_VARIABLE = "CLERK_SANDBOX_NETWORK"
SANDBOX_ID = 61000
UID_VARIABLE, GID_VARIABLE = "CLERK_SANDBOX_UID", "CLERK_SANDBOX_GID"
TASKS_VARIABLE, DEFAULT_MAX_TASKS = "CLERK_SANDBOX_MAX_TASKS", 1024
# A sandbox that still runs as root can write host sysctls: this is how the start-up check
# tells (the open fails with EACCES or EROFS when it cannot).
PRIVILEGE_PROBE = '! test -w /proc/sys/kernel/core_pattern && test "$(id -u)" != 0'


@dataclass(frozen=True)
class Protections:
    """Switches for the hostile-tenant tests, which show each attack succeeding without its
    protection. Not configuration: a server always runs with all of them."""

    privileges: bool = True  # unprivileged uid/gid, no capabilities, /proc/sys read-only
    output: bool = True  # kernel output through a pipe of its own, not the server's stdout
    sockets: bool = True  # the server connects through its own links to the kernel's sockets


def _env_id(variable: str, trait: str) -> int:
    value = env_str(variable, str(SANDBOX_ID)).strip()
    if not value.isdigit():
        raise ClerkConfigError(f"${variable}={value!r}: c.ClerkSandbox.{trait} is a number.")
    return int(value)


class SandboxError(RuntimeError):
    """A sandbox cannot be started for this request (no workspace, or the wrong directory)."""


def python_paths() -> list[str]:
    """The server's Python installation, which kernels run from (read-only)."""
    paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    return list(dict.fromkeys(os.path.realpath(p) for p in paths))


def _contains(parent: str, child: str) -> bool:
    return child == parent or child.startswith(parent.rstrip(os.sep) + os.sep)


def _workspace_parts(path: str, root: str) -> tuple[str, ...]:
    """("orgs", "<id>", *rest) for a path in a workspace under `root` (as given or resolved)."""
    for base in (os.path.abspath(root), os.path.realpath(root)):
        if _contains(base, path):
            parts = Path(os.path.relpath(path, base)).parts
            return parts if len(parts) >= 2 and parts[0] in WORKSPACE_PARENTS else ()
    return ()


class ClerkSandbox(LoggingConfigurable):
    """Settings of the bubblewrap sandbox of kernels and terminals (c.ClerkSandbox.…)."""

    protections = Protections()
    _task_groups_work: bool | None = None  # found out on the first sandbox
    _tasks_by_default = False  # max_tasks neither configured nor from the environment

    bwrap = Unicode("bwrap", help="The bubblewrap executable.").tag(config=True)
    user_id = Int(
        help="When the server runs as root, sandboxes run as this uid (never 0). Pick one no "
        "account on the host uses: files that kernels and terminals write belong to it. "
        f"Default {SANDBOX_ID}, or ${UID_VARIABLE}.",
    ).tag(config=True)
    group_id = Int(
        help="The gid of sandboxes when the server runs as root (never 0). "
        f"Default {SANDBOX_ID}, or ${GID_VARIABLE}.",
    ).tag(config=True)
    network = Enum(
        NETWORKS,
        help="A sandbox's network. 'user' (default): a network namespace of its own with "
        "user-mode networking to the outside through pasta (pip install works; the host's "
        "loopback services and abstract unix sockets are out of reach). 'loopback': its own "
        "namespace with only a loopback interface. 'host': the host's network, loopback "
        f"services included (an explicit opt-in). Default from ${NETWORK_VARIABLE}.",
    ).tag(config=True)
    pasta = Unicode("pasta", help="The pasta executable (Debian package passt).").tag(config=True)
    memory_limit = Int(
        0, help="Address-space limit of a sandbox's processes, in bytes (0: none)."
    ).tag(config=True)
    max_processes = Int(
        0,
        help="Limit on processes and threads (RLIMIT_NPROC; counted per OS user, not enforced "
        "for root) (0: none).",
    ).tag(config=True)
    max_tasks = Int(
        min=0,
        help="Processes and threads one sandbox may have at once, counted for that sandbox "
        "alone through a pids cgroup of its own (0: no limit). max_processes cannot do this: "
        "it counts per OS user, which all sandboxes share, so one kernel reaching it would "
        "stop every other. Needs a pids cgroup the server may write (it runs as root); "
        "without one the server warns at start and runs without this limit. Default "
        f"{DEFAULT_MAX_TASKS}, or ${TASKS_VARIABLE}.",
    ).tag(config=True)
    cpu_time_limit = Int(
        0, help="CPU seconds per process of a sandbox (RLIMIT_CPU) (0: none)."
    ).tag(config=True)
    hidden_environment = List(
        Unicode(),
        help="Environment variable patterns (fnmatch, case-insensitive) never passed into a "
        "sandbox, besides CLERK_*, JUPYTER_TOKEN and *_SECRET*.",
    ).tag(config=True)
    system_paths = List(
        Unicode(), help="System paths bound read-only (missing ones are skipped)."
    ).tag(config=True)
    read_only_paths = List(
        Unicode(),
        help="More host paths bound read-only, e.g. another kernel's environment. The server's "
        "Python environment is always bound.",
    ).tag(config=True)
    home = Unicode("/home/jovyan", help="HOME inside a sandbox: private, empty, gone at exit.").tag(
        config=True
    )
    runtime_dir = Unicode(
        help="Where per-kernel private directories (connection file, IPC sockets) are made. "
        "Default: <Jupyter runtime dir>/clerk-sandbox."
    ).tag(config=True)

    @default("user_id")
    def _default_user_id(self) -> int:
        return _env_id(UID_VARIABLE, "user_id")

    @default("group_id")
    def _default_group_id(self) -> int:
        return _env_id(GID_VARIABLE, "group_id")

    @default("max_tasks")
    def _default_max_tasks(self) -> int:
        value = os.environ.get(TASKS_VARIABLE, "").strip()
        self._tasks_by_default = not value
        if not value:
            return DEFAULT_MAX_TASKS
        if not value.isdigit():
            raise ClerkConfigError(
                f"${TASKS_VARIABLE}={value!r}: c.ClerkSandbox.max_tasks is a whole number "
                "(0: no limit)."
            )
        return int(value)

    @default("network")
    def _default_network(self) -> str:
        value = env_str(NETWORK_VARIABLE, "user")
        if value not in NETWORKS:
            raise ClerkConfigError(
                f"${NETWORK_VARIABLE}={value!r}: c.ClerkSandbox.network is one of {NETWORKS}."
            )
        return value

    @default("hidden_environment")
    def _default_hidden_environment(self) -> list[str]:
        return list(HIDDEN_ENVIRONMENT)

    @default("system_paths")
    def _default_system_paths(self) -> list[str]:
        return list(SYSTEM_PATHS)

    @default("runtime_dir")
    def _default_runtime_dir(self) -> str:
        return os.path.join(jupyter_runtime_dir(), "clerk-sandbox")

    @property
    def packages(self) -> str:
        return f"{self.home}/.local/site-packages"

    def read_only(self) -> list[str]:
        return [*self.system_paths, *python_paths(), *self.read_only_paths]

    def locate(self, cwd: str | None, server_root: str | None) -> tuple[str, str]:
        """(workspace directory on the host, working directory inside the sandbox).

        Under a server the workspace is the whole users/<id> or orgs/<id> directory that
        contains `cwd`; a `cwd` anywhere else (the root itself, outside the root) is refused
        rather than exposing more than one workspace. Without a server root, `cwd` is it.
        """
        if not cwd:
            raise SandboxError("A sandbox needs its workspace directory as working directory.")
        real = os.path.realpath(cwd)
        if not os.path.isdir(real):
            raise SandboxError(f"No such workspace directory: {cwd}")
        if server_root is None:
            return real, WORKSPACE
        parts = _workspace_parts(real, server_root)
        # Both spellings must name the same workspace: a symlink may not lead into another.
        if not parts or parts[:2] != _workspace_parts(os.path.abspath(cwd), server_root)[:2]:
            raise SandboxError("A sandbox runs in one workspace (users/<id> or orgs/<id>).")
        inside = "/".join((WORKSPACE, *parts[2:]))
        return os.path.join(os.path.realpath(server_root), *parts[:2]), inside

    def task_limit(self) -> str:
        """The launcher's TASKS argument: `max_tasks` where task groups work here, else "-".
        A limit the operator set must hold or stop the start; the default only warns."""
        if self.max_tasks <= 0:
            return "-"
        if self._task_groups_work is None:
            try:
                os.rmdir(launcher_script.new_task_group(self.max_tasks))
                self._task_groups_work = True
            except OSError as error:
                if not self._tasks_by_default:
                    raise ClerkConfigError(
                        f"c.ClerkSandbox.max_tasks (${TASKS_VARIABLE}) is set, but no pids cgroup "
                        f"can be made here ({error}): run the server as root where it may write "
                        "the pids cgroup (with cgroup v2, in a delegated subtree whose own "
                        "cgroup holds no process), or set it to 0."
                    ) from None
                self._task_groups_work = False
                self.log.warning(
                    "Sandbox: c.ClerkSandbox.max_tasks (%s) is not applied, since no pids "
                    "cgroup can be made here (%s). Sandboxes share the OS user's process "
                    "limit, c.ClerkSandbox.max_processes, instead.",
                    TASKS_VARIABLE,
                    error,
                )
        return str(self.max_tasks) if self._task_groups_work else "-"

    def drops_privileges(self) -> bool:
        return os.geteuid() == 0 and self.protections.privileges

    def ids(self) -> tuple[int, int]:
        """The host uid and gid of sandboxed processes."""
        if self.drops_privileges():
            return self.user_id, self.group_id
        return os.getuid(), os.getgid()

    def share(self, workspace: str) -> None:
        """Let the sandbox's uid write the workspace (a walk the first time, then a lookup)."""
        if self.drops_privileges():
            share_workspace(workspace, self.user_id)

    def check_sharing(self, server_root: str) -> None:
        """Refuse to start when workspaces under `server_root` cannot be shared with the
        sandbox's uid (no POSIX ACLs there): every kernel would fail to write its files."""
        if not self.drops_privileges():
            return
        try:
            with tempfile.TemporaryDirectory(prefix=".clerk-acl-check-", dir=server_root) as probe:
                share_workspace(probe, self.user_id)
        except OSError as error:
            raise ClerkConfigError(
                f"Sandboxes run as uid {self.user_id} (c.ClerkSandbox.user_id), but the server "
                f"root {server_root} cannot grant it its workspaces through POSIX ACLs "
                f"({error.strerror}): put the server root on a filesystem with ACLs (ext4, xfs, "
                "btrfs, tmpfs), or run the server as that user instead of root."
            ) from error

    def environment(self, env: Mapping[str, str]) -> dict[str, str]:
        """The allowlisted part of `env` (see KernelEnvironment), with the sandbox's paths."""
        clean = scrub_environment(env, self.hidden_environment, parent=self)
        clean.update(HOME=self.home, TMPDIR="/tmp", PIP_TARGET=self.packages)  # noqa: S108
        # The Python environment is read-only: pip installs into the private home instead.
        clean["PYTHONPATH"] = os.pathsep.join(filter(None, [self.packages, env.get("PYTHONPATH")]))
        return clean

    def command(
        self,
        command: Sequence[str],
        *,
        workspace: str,
        cwd: str = WORKSPACE,
        read_only: Sequence[str] = (),
        writable: Mapping[str, str] | None = None,
        read_only_at: Mapping[str, str] | None = None,
        unset_env: Sequence[str] = (),
        info_fd: int | None = None,
    ) -> list[str]:
        layout = SandboxLayout(
            workspace=workspace,
            cwd=cwd,
            home=self.home,
            directories=[self.packages],
            read_only=[*self.read_only(), *read_only],
            writable=writable or {},
            read_only_at=read_only_at or {},
            network=self.network == "host",
            unset_env=unset_env,
            info_fd=info_fd,
            read_only_tunables=self.protections.privileges,
        )
        uid, gid = map(str, self.ids()) if self.drops_privileges() else ("-", "-")
        pasta = "-"
        if self.network == "user":
            pasta = shutil.which(self.pasta) or self.pasta
        launcher = [sys.executable, "-I", "-S", LAUNCHER, uid, gid, pasta, self.task_limit(), "--"]
        bwrap = shutil.which(self.bwrap) or self.bwrap
        limits = {
            "--as": self.memory_limit,
            "--nproc": self.max_processes,
            "--cpu": self.cpu_time_limit,
        }
        prefix = [*limit_prefix(limits, self.log), *launcher]
        return [*prefix, *bwrap_argv(bwrap, layout, command)]

    def private_dir(self) -> Path:
        """A fresh directory only this server's OS user can enter (mode 0700)."""
        os.makedirs(self.runtime_dir, mode=0o700, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="k", dir=self.runtime_dir))  # short: see provisioner

    def check(self, forbidden: Sequence[str]) -> None:
        """Refuse to start unless a sandbox really runs here, unprivileged, and hides
        `forbidden` paths."""
        if self.drops_privileges() and 0 in (self.user_id, self.group_id):
            raise ClerkConfigError(
                "The server runs as root, so sandboxes run as c.ClerkSandbox.user_id and "
                "group_id, which must not be 0 (root)."
            )
        for path in filter(None, map(os.path.realpath, forbidden)):
            for shown in self.read_only():
                if _contains(os.path.realpath(shown), path):
                    raise ClerkConfigError(
                        f"The sandbox would show {path} to every kernel: it is inside the "
                        f"read-only path {shown}. Move it, or change c.ClerkSandbox paths."
                    )
        if self.network == "user" and shutil.which(self.pasta) is None:
            raise ClerkConfigError(
                f"c.ClerkSandbox.network is 'user' but pasta ({self.pasta}) is not installed: "
                f"install the passt package, or set c.ClerkSandbox.network (${NETWORK_VARIABLE}) "
                "to 'loopback'."
            )
        if shutil.which(self.bwrap) is None:
            raise ClerkConfigError(
                f"c.ClerkApp.sandbox_kernels is on but bubblewrap ({self.bwrap}) is not "
                "installed: install the bubblewrap package, or turn the sandbox off."
            )
        with tempfile.TemporaryDirectory() as workspace:
            os.chmod(workspace, 0o711)  # noqa: S103 - the sandbox's uid starts in it
            argv = self.command(["/bin/sh", "-c", PRIVILEGE_PROBE], workspace=workspace)
            try:
                subprocess.run(  # noqa: S603 - our own argv
                    argv,
                    env=self.environment(os.environ),
                    capture_output=True,
                    check=True,
                    timeout=30,
                )
            except (OSError, subprocess.SubprocessError) as error:
                detail = getattr(error, "stderr", b"") or str(error).encode()
                raise ClerkConfigError(
                    "c.ClerkApp.sandbox_kernels is on but bubblewrap cannot run here "
                    "unprivileged (user namespaces disabled? /proc/sys writable or uid 0 in "
                    f"the sandbox?): {detail.decode(errors='replace').strip() or 'probe failed'}"
                ) from error
