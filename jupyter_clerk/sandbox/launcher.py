"""The first process of every sandbox: stage its host paths, drop privileges, exec bubblewrap.

Run as a script with `python -I -S`, so it imports nothing but the standard library.

    launcher.py UID GID PASTA TASKS -- bwrap [options] -- command

When the server runs as root, bubblewrap runs as an unprivileged user (UID:GID), which may
not reach host paths the server keeps private (a 0700 runtime directory, a Python under
/root; bubblewrap resolves every source path as its own user). So the launcher, still root,
enters a mount namespace of its own and binds each such path onto a staging tmpfs that user
can reach, then drops privileges and execs bubblewrap with the staged paths:

    --host-bind SRC DEST          -> --bind STAGE/N DEST
    --host-ro-bind SRC DEST       -> --ro-bind STAGE/N DEST
    --host-ro-bind-try SRC DEST   -> the same, or nothing when SRC is missing

Each source is opened once and bound through its descriptor, so what is bound is what was
opened (links are followed for read-only paths, as bubblewrap does: /bin is one on Debian;
never for writable ones). Dropping to UID:GID clears every capability (no keep-caps) and
supplementary group; no-new-privs makes setuid programs inert. With UID "-" (a server that is
not root) the paths are passed through as they are.

With PASTA (a path; "-" for none) the sandbox's own network namespace gets user-mode
networking: a helper process waits for bubblewrap to create the namespaces and attaches pasta
to them while the command starts (until then the namespace has a loopback interface only:
nothing to reach). pasta is told not to map the gateway to the host's loopback and not to
forward any port in either direction, so the host's loopback services stay out of reach. If
pasta fails, the sandbox is killed.

With TASKS (a number; "-" for none) the launcher, still root, moves itself into a pids cgroup
of its own whose `pids.max` is TASKS, so every process and thread of the sandbox counts
against that sandbox alone. RLIMIT_NPROC cannot do this: it counts per OS user, and every
sandbox runs as the same one, so one kernel forking to the limit would stop all the others.
Groups are made under `jupyter-clerk` in the launcher's own pids cgroup; empty ones left by
ended sandboxes are removed by the next launch.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import select
import shutil
import signal
import sys
import tempfile

PR_SET_NO_NEW_PRIVS = 38
CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 4096, 16384, 1 << 18
STAGE = "/run/clerk-sandbox"
HOST_BINDS = {
    "--host-bind": ("--bind", False),
    "--host-ro-bind": ("--ro-bind", False),
    "--host-ro-bind-try": ("--ro-bind", True),
}

libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise SystemExit(f"sandbox launcher: {what}: {os.strerror(error)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str) -> None:
    encode = lambda text: None if text is None else os.fsencode(text)  # noqa: E731
    result = libc.mount(encode(source), encode(target), encode(fstype), flags, encode(data))
    _check(result, f"mount {target}")


def enter_stage() -> None:
    """A private mount namespace with an empty tmpfs at STAGE."""
    os.makedirs(STAGE, mode=0o755, exist_ok=True)
    _check(libc.unshare(CLONE_NEWNS), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE, "")
    _mount("stage", STAGE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k")


def stage(source: str, number: int, follow: bool) -> str:
    """`source` bound at STAGE/<number>, through the descriptor it was opened as."""
    fd = os.open(source, os.O_PATH | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW))
    try:
        target = f"{STAGE}/{number}"
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.mkdir(target)
        else:
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600))
        _mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC, "")
        return target
    finally:
        os.close(fd)


def resolve_binds(argv: list[str], staged: bool) -> list[str]:
    """bubblewrap's argv with `--host-*bind` options turned into bubblewrap's own."""
    out: list[str] = []
    index = 0
    while index < len(argv):
        option = argv[index]
        if option == "--":
            return out + argv[index:]
        if option not in HOST_BINDS:
            out.append(option)
            index += 1
            continue
        replacement, optional = HOST_BINDS[option]
        source, dest = argv[index + 1], argv[index + 2]
        index += 3
        if not os.path.exists(source):
            if optional:
                continue
            raise SystemExit(f"sandbox launcher: no such path {source}")
        # What the sandbox may write (its workspace, its socket directory) is never a link.
        follow = replacement == "--ro-bind"
        out += [replacement, stage(source, index, follow) if staged else source, dest]
    return out


def drop_privileges(uid: str, gid: str) -> None:
    if uid != "-":
        os.setgroups([])
        os.setresgid(int(gid), int(gid), int(gid))
        os.setresuid(int(uid), int(uid), int(uid))
        if 0 in os.getresuid() or 0 in os.getresgid():
            raise SystemExit("sandbox launcher: still root after dropping privileges")
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no-new-privs")


TASK_GROUPS = "jupyter-clerk"


def _pids_hierarchy() -> str | None:
    """This process's own cgroup directory in the hierarchy with the pids controller."""
    own = {}
    with open("/proc/self/cgroup") as lines:
        for line in lines:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            own[controllers] = path
    with open("/proc/self/mountinfo") as lines:
        for line in lines:
            fields = line.split()
            separator = fields.index("-")
            root, mountpoint = fields[3], fields[4]
            fstype, options = fields[separator + 1], fields[separator + 3].split(",")
            if fstype == "cgroup" and "pids" in options:
                path = next((p for c, p in own.items() if "pids" in c.split(",")), None)
            elif fstype == "cgroup2" and os.path.exists(f"{mountpoint}/cgroup.controllers"):
                with open(f"{mountpoint}/cgroup.controllers") as controllers:
                    path = own.get("") if "pids" in controllers.read().split() else None
            else:
                continue
            if path is not None and (root == "/" or path == root or path.startswith(root + "/")):
                relative = path[len(root) :] if root != "/" else path
                return mountpoint + relative.rstrip("/")
    return None


def _sweep(groups: str) -> None:
    """Remove groups whose launcher is gone; a group still in use refuses (EBUSY)."""
    for name in os.listdir(groups):
        pid = name.split("-", 1)[0]
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            with contextlib.suppress(OSError):
                os.rmdir(f"{groups}/{name}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as control:
        control.write(text)


def new_task_group(limit: int) -> str:
    """A new, empty pids cgroup limited to `limit` tasks; its path."""
    hierarchy = _pids_hierarchy()
    if hierarchy is None:
        raise OSError("no pids cgroup hierarchy is mounted")
    groups = f"{hierarchy}/{TASK_GROUPS}"
    with contextlib.suppress(FileExistsError):
        os.mkdir(groups, 0o755)
    if os.path.exists(f"{groups}/cgroup.subtree_control"):  # cgroup v2: delegate the controller
        for parent in (hierarchy, groups):
            _write(f"{parent}/cgroup.subtree_control", "+pids")
    _sweep(groups)
    group = f"{groups}/{os.getpid()}-{secrets.token_hex(4)}"
    os.mkdir(group, 0o755)
    _write(f"{group}/pids.max", str(limit))
    return group


def join_task_group(limit: int) -> str:
    """Move this process into a new pids cgroup limited to `limit` tasks; its path."""
    group = new_task_group(limit)
    _write(f"{group}/cgroup.procs", "0")
    return group


PASTA_OPTIONS = [
    "--config-net",  # the host's addresses, routes and DNS, inside the namespace
    "--quiet",
    "--no-map-gw",  # the gateway is the gateway, not the host's 127.0.0.1
    *("--tcp-ports", "none", "--udp-ports", "none"),  # nothing of the host forwarded in
    *("--tcp-ns", "none", "--udp-ns", "none"),  # nor the namespace's loopback out
]


def _read_all(fd: int) -> bytes:
    data = b""
    while chunk := os.read(fd, 4096):
        data += chunk
    return data


def attach_network(pasta: str, info_read: int, info_out: int | None) -> None:
    """In the helper process: hand the sandbox's pid on, then attach pasta to it."""
    info = _read_all(info_read)
    if info_out is not None:
        os.write(info_out, info)
        os.close(info_out)
    pid = int(json.loads(info)["child-pid"])
    try:
        userns = os.open(f"/proc/{pid}/ns/user", os.O_RDONLY)
        netns = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
        # /dev/net/tun is root's in many containers: pasta keeps our uid (see the README).
        runas = ["--runas", f"{os.getuid()}:{os.getgid()}"]
        namespaces = ["--userns", f"/proc/self/fd/{userns}", "--netns", f"/proc/self/fd/{netns}"]
        # pasta would quit with the namespace only if it could watch it by path, which a
        # namespace held by descriptor is not: it tells us its pid, and we stop it ourselves.
        pid_dir = tempfile.mkdtemp(prefix="clerk-pasta-")
        pid_file = os.path.join(pid_dir, "pid")
        argv = [pasta, *PASTA_OPTIONS, "--pid", pid_file, *runas, *namespaces]
        os.set_inheritable(userns, True)
        os.set_inheritable(netns, True)
        sandbox = os.pidfd_open(pid)
        defaults = (signal.SIGPIPE, signal.SIGXFSZ)  # as Python found them, not as it set them
        child = os.posix_spawn(pasta, argv, os.environ, setsigdef=defaults)
        _, status = os.waitpid(child, 0)  # pasta forks into the background once attached
        if os.waitstatus_to_exitcode(status) != 0:
            raise OSError(f"pasta exited with status {os.waitstatus_to_exitcode(status)}")
        with open(pid_file) as f:
            pasta_pid = int(f.read().strip())
        shutil.rmtree(pid_dir, ignore_errors=True)
    except (OSError, ValueError) as error:
        print(f"sandbox launcher: no network for the sandbox: {error}", file=sys.stderr)
        os.kill(pid, signal.SIGKILL)
        raise
    select.select([sandbox], [], [])  # readable once the sandbox has ended
    with contextlib.suppress(ProcessLookupError):
        os.kill(pasta_pid, signal.SIGTERM)


def start_network_helper(pasta: str, bwrap: list[str]) -> list[str]:
    """Fork the helper of `attach_network`; bubblewrap's argv, now reporting to it."""
    info_read, info_write = os.pipe()
    info_out = None
    if "--info-fd" in bwrap[: bwrap.index("--")]:  # the server's: forwarded by the helper
        at = bwrap.index("--info-fd") + 1
        info_out, bwrap = int(bwrap[at]), [*bwrap[:at], str(info_write), *bwrap[at + 1 :]]
    else:
        bwrap = [bwrap[0], "--info-fd", str(info_write), *bwrap[1:]]
    if os.fork() == 0:
        code = 1
        try:
            # Its own session: stopping the kernel's process group must leave it to stop pasta.
            os.setsid()
            os.close(info_write)
            attach_network(pasta, info_read, info_out)
            code = 0
        finally:
            os._exit(code)
    os.close(info_read)
    if info_out is not None:
        os.close(info_out)
    os.set_inheritable(info_write, True)
    return bwrap


def main(args: list[str]) -> None:
    uid, gid, pasta, tasks, separator, *bwrap = args
    if separator != "--" or not bwrap:
        raise SystemExit("usage: launcher.py UID GID PASTA TASKS -- bwrap [options] -- command")
    if uid != "-":
        enter_stage()
    argv = resolve_binds(bwrap, staged=uid != "-")
    if pasta != "-":
        argv = start_network_helper(pasta, argv)
    if tasks != "-":  # after the helper: pasta does not count against the sandbox
        try:
            join_task_group(int(tasks))
        except (OSError, ValueError) as error:
            raise SystemExit(f"sandbox launcher: no task limit for the sandbox: {error}") from None
    drop_privileges(uid, gid)
    os.execv(argv[0], argv)  # noqa: S606 - bubblewrap, resolved by the server


if __name__ == "__main__":
    main(sys.argv[1:])
