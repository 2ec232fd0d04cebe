"""The bubblewrap command line of one sandboxed process: what it may see, and nothing else."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# Where the workspace appears inside every sandbox: paths in notebooks do not depend on the
# server's layout, and the server's layout is not revealed to them.
WORKSPACE = "/workspace"


@dataclass(frozen=True)
class SandboxLayout:
    """The host directories a sandbox is given; everything else of the host is absent."""

    workspace: str  # bound read-write at WORKSPACE
    cwd: str = WORKSPACE  # working directory inside the sandbox
    home: str = "/home/jovyan"  # a private, empty tmpfs
    directories: Sequence[str] = ()  # made empty inside the sandbox, e.g. under home
    read_only: Sequence[str] = ()  # bound read-only at the same path; missing ones skipped
    writable: Mapping[str, str] = field(default_factory=dict)  # host dir → sandbox path
    read_only_at: Mapping[str, str] = field(default_factory=dict)  # host path → sandbox path
    network: bool = True
    unset_env: Sequence[str] = ()  # variables the launcher adds after the environment is scrubbed
    info_fd: int | None = None  # bwrap writes {"child-pid": …} there: the sandbox's init
    read_only_tunables: bool = True  # /proc/sys bound read-only over the sandbox's /proc


def bwrap_argv(bwrap: str, layout: SandboxLayout, command: Sequence[str]) -> list[str]:
    """New user, PID, IPC, UTS, cgroup (and optionally network) namespaces; no capabilities.

    The PID namespace is what keeps the process from signalling or tracing the server: the
    server's processes do not exist in it. Private /tmp and home come before the read-only
    binds so a Python environment that lives under /tmp stays visible. Host paths are given
    as `--host-*bind` options, which the launcher turns into descriptors (see launcher.py).
    """
    argv = [bwrap, "--unshare-all", "--unshare-user", "--cap-drop", "ALL"]
    argv += ["--die-with-parent", "--new-session"]
    if layout.network:
        argv.append("--share-net")
    private = ["--tmpfs", "/tmp", "--tmpfs", layout.home]  # noqa: S108 - the sandbox's own
    argv += ["--proc", "/proc", "--dev", "/dev", *private]
    if layout.read_only_tunables:  # the sandbox's own /proc/sys is still the host's sysctls
        argv += ["--ro-bind", "/proc/sys", "/proc/sys"]
    for path in layout.directories:
        argv += ["--dir", path]
    for path in layout.read_only:
        argv += ["--host-ro-bind-try", path, path]
    for source, target in layout.writable.items():
        argv += ["--host-bind", source, target]
    for source, target in layout.read_only_at.items():
        argv += ["--host-ro-bind", source, target]
    argv += ["--host-bind", layout.workspace, WORKSPACE, "--chdir", layout.cwd]
    for name in layout.unset_env:
        argv += ["--unsetenv", name]
    if layout.info_fd is not None:
        argv += ["--info-fd", str(layout.info_fd)]
    return [*argv, "--", *command]
