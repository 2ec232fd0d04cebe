"""A hostile kernel against the host: privileges, inherited descriptors, its sockets, the network.

Each attack first runs with its protection switched off (ClerkSandbox.protections, or the
host network, the documented opt-in) and must succeed there, so that each test would fail
if the protection were removed; then it runs with the protection on and must fail. We run
as root (as `make demo` and CI do): that is where these attacks matter.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
import time
from pathlib import Path

import pytest

from jupyter_clerk.sandbox.policy import ClerkSandbox, Protections
from jupyter_clerk.sandbox.provisioner import KERNEL_DIR
from jupyter_clerk.sandbox.specs import SandboxKernelSpecManager

ATTEMPT = """
import os, socket
def attempt(action):
    try:
        action()
        return "done"
    except OSError as error:
        return type(error).__name__
"""


@pytest.fixture(autouse=True)
def running_as_root() -> None:
    assert os.geteuid() == 0, "these tests attack a server that runs as root, as CI does"


def unprotected(monkeypatch: pytest.MonkeyPatch, **off: bool) -> None:
    monkeypatch.setattr(ClerkSandbox, "protections", Protections(**dict.fromkeys(off, False)))


def test_kernel_cannot_write_host_tunables_nor_keep_root(start_kernel, server_root, monkeypatch):
    core_pattern = (
        "attempt(lambda: os.close(os.open('/proc/sys/kernel/core_pattern', os.O_WRONLY)))"
    )
    with monkeypatch.context() as patch:
        unprotected(patch, privileges=True)
        root = start_kernel(server_root / "orgs" / "org_B")
        root.run(ATTEMPT)
        # Opened for writing (nothing written): one write from running a program as host root.
        assert root.value(core_pattern) == "done"
        assert root.value("os.getuid()") == 0
    kernel = start_kernel(server_root / "orgs" / "org_A")
    kernel.run(ATTEMPT)
    assert kernel.value(core_pattern) in ("PermissionError", "OSError")  # EACCES or EROFS
    assert kernel.value("attempt(lambda: open('/proc/sys/vm/drop_caches', 'w'))") != "done"
    assert kernel.value("[os.getuid(), os.getgid(), os.getgroups()]") == [61000, 61000, []]
    status = kernel.value(
        "dict(line.split(':\\t') for line in open('/proc/self/status').read().splitlines()"
        " if line.startswith(('Cap', 'NoNew')))"
    )
    assert {status[k].strip() for k in ("CapPrm", "CapEff", "CapBnd", "CapAmb")} == {
        "0000000000000000"
    }
    assert status["NoNewPrivs"].strip() == "1"  # setuid programs cannot raise privileges
    mounts = kernel.value("[l.split() for l in open('/proc/self/mountinfo')]")
    usr = next(m for m in mounts if m[4] == "/usr")
    assert "nosuid" in usr[5]


def test_files_written_by_the_kernel_and_by_the_server_stay_usable_by_both(
    start_kernel, server_root
):
    workspace = server_root / "orgs" / "org_A"
    (workspace / "uploaded").mkdir()
    (workspace / "uploaded" / "data.csv").write_text("a\n")  # the server's, before any kernel
    kernel = start_kernel(workspace)
    (workspace / "saved.ipynb").write_text("{}")  # the server's, while the kernel runs
    kernel.run(
        "import os\n"
        "open('uploaded/data.csv', 'a').write('b\\n'); open('saved.ipynb', 'w').write('[]')\n"
        "os.makedirs('out'); open('out/result.txt', 'w').write('kernel')"
    )
    assert (workspace / "uploaded" / "data.csv").read_text() == "a\nb\n"
    assert (workspace / "saved.ipynb").read_text() == "[]"
    assert (workspace / "out" / "result.txt").read_text() == "kernel"
    assert (workspace / "out" / "result.txt").stat().st_uid == 61000
    (workspace / "out" / "server.txt").write_text("server")  # into the kernel's folder
    assert kernel.value("open('out/server.txt').read()") == "server"


def _same_file(fd: int) -> list[int]:
    info = os.fstat(fd)
    return [info.st_dev, info.st_ino]


KERNEL_FILES = """[
    [os.fstat(int(fd)).st_dev, os.fstat(int(fd)).st_ino]
    for fd in os.listdir('/proc/self/fd') if os.path.exists(f'/proc/self/fd/{fd}')
]"""


def test_kernel_holds_no_descriptor_of_the_server(start_kernel, server_root, monkeypatch, caplog):
    server = [_same_file(1), _same_file(2)]  # the server log, here pytest's capture
    with monkeypatch.context() as patch:
        unprotected(patch, output=True)
        leaky = start_kernel(server_root / "orgs" / "org_B")
        leaky.run("import os")
        assert any(f in server for f in leaky.value(KERNEL_FILES))
    caplog.set_level(logging.INFO)
    kernel = start_kernel(server_root / "orgs" / "org_A")
    kernel.run("import os")
    assert not any(f in server for f in kernel.value(KERNEL_FILES))
    # What the kernel writes to its stdout reaches the server log, one labelled record a line.
    kernel.run("os.write(1, b'from the kernel\\nINFO forged line\\n')")
    kernel.wait_ready()  # a round trip: the output pipe has been read meanwhile
    lines = [r.getMessage() for r in caplog.records if "from the kernel" in r.getMessage()]
    lines += [r.getMessage() for r in caplog.records if "forged line" in r.getMessage()]
    assert len(lines) == 2 and all(line.startswith("Kernel ") for line in lines)


def test_kernel_environment_is_an_allowlist(start_kernel, server_root, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    monkeypatch.setenv("DATABASE_URL", "postgres://app:hunter2@db/app")
    monkeypatch.setenv("CLERK_KERNEL_ENV_ALLOW", "OPENAI_API_KEY")  # the switch: allow one
    allowed = start_kernel(server_root / "orgs" / "org_B")
    assert allowed.value("os.environ.get('OPENAI_API_KEY')") == "sk-openai"
    monkeypatch.delenv("CLERK_KERNEL_ENV_ALLOW")
    kernel = start_kernel(server_root / "orgs" / "org_A")
    names = set(kernel.value("list(os.environ)"))
    assert names.isdisjoint({"OPENAI_API_KEY", "DATABASE_URL", "CLERK_SECRET_KEY"})
    assert {"PATH", "HOME"} <= names


REDIRECT = """
import os
def redirect(port, target):
    path = f'{directory}/ipc-{{port}}'
    os.unlink(path)
    os.symlink(target, path)
"""


def test_kernel_cannot_point_the_server_at_another_socket(
    start_kernel, server_root, monkeypatch, tmp_path, jp_asyncio_loop
):
    """The kernel swaps its shell socket for a link to a socket of the host (another kernel's,
    say); the server's next connection to the kernel must not follow it."""
    clients = []

    def attack(kernel, victim: str) -> socket.socket:
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(tmp_path / victim))
        listener.listen()
        listener.settimeout(60)
        kernel.run(REDIRECT.format(directory=KERNEL_DIR))
        kernel.run(f"redirect({kernel.km.shell_port}, {str(tmp_path / victim)!r})")
        clients.append(kernel.km.client())  # the server's next connection to the kernel
        clients[-1].start_channels()
        return listener

    with monkeypatch.context() as patch:
        unprotected(patch, sockets=True)
        listener = attack(start_kernel(server_root / "orgs" / "org_B"), "first.sock")
        victim, _ = listener.accept()  # the server connected to the host's socket
        victim.close()
    listener = attack(start_kernel(server_root / "orgs" / "org_A"), "second.sock")
    clients[-1].kernel_info()  # answered by the kernel, over its real socket
    message = jp_asyncio_loop.run_until_complete(clients[-1].get_shell_msg(timeout=60))
    assert message["msg_type"] == "kernel_info_reply"
    listener.setblocking(False)
    with pytest.raises(BlockingIOError):
        listener.accept()
    for client in clients:
        client.stop_channels()


def test_the_server_links_only_sockets_of_the_sandbox(start_kernel, server_root):
    kernel = start_kernel(server_root / "orgs" / "org_A")
    links = Path(kernel.km.ip).parent
    assert stat.S_IMODE(links.stat().st_mode) == 0o700 and links.stat().st_uid == 0
    for link in links.iterdir():
        info = link.lstat()
        assert stat.S_ISSOCK(info.st_mode) and info.st_uid == 61000


@pytest.fixture
def host_services(tmp_path):
    """A TCP service on the host's 127.0.0.1 and an abstract unix socket of the host."""
    tcp = socket.create_server(("127.0.0.1", 0))
    abstract = socket.socket(socket.AF_UNIX)
    name = f"\0clerk-hostile-{os.getpid()}-{tmp_path.name}"
    abstract.bind(name)
    abstract.listen()
    yield tcp.getsockname()[1], name
    tcp.close()
    abstract.close()


REACH = """
def tcp(host, port):
    with socket.create_connection((host, port), timeout=3):
        pass
def unix(name):
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(name)
def gateway():
    for line in open('/proc/net/route').read().splitlines()[1:]:
        fields = line.split()
        if fields[1] == '00000000':
            return socket.inet_ntoa(int(fields[2], 16).to_bytes(4, 'little'))
"""


def test_kernel_cannot_reach_host_loopback_services_or_abstract_sockets(
    start_kernel, server_root, host_services
):
    port, name = host_services
    host = start_kernel(server_root / "orgs" / "org_B", network="host")  # the opt-in
    host.run(ATTEMPT + REACH)
    assert host.value(f"attempt(lambda: tcp('127.0.0.1', {port}))") == "done"
    assert host.value(f"attempt(lambda: unix({name!r}))") == "done"
    for network in ("user", "loopback"):
        kernel = start_kernel(server_root / "orgs" / "org_A", network=network)
        kernel.run(ATTEMPT + REACH)
        assert kernel.value(f"attempt(lambda: tcp('127.0.0.1', {port}))") != "done"
        assert kernel.value(f"attempt(lambda: unix({name!r}))") != "done"
    # pasta does not map the gateway to the host's loopback either.
    assert kernel.value(f"gateway() and attempt(lambda: tcp(gateway(), {port}))") != "done"


def test_kernel_has_its_own_user_mode_network(start_kernel, server_root):
    """The kernel's way out is pasta's interface and default route, not the host's. Reaching
    the outside itself is not tested: the tests send no traffic off this machine."""
    kernel = start_kernel(server_root / "orgs" / "org_A")
    kernel.run(ATTEMPT + REACH)
    interfaces = kernel.value("sorted(name for _, name in socket.if_nameindex())")
    assert "lo" in interfaces and len(interfaces) == 2  # loopback and pasta's, nothing else
    assert kernel.value("gateway()") is not None  # a default route
    assert kernel.value("os.path.exists('/etc/resolv.conf')")


def test_a_kernel_that_plants_links_before_binding_is_not_started(
    start_kernel, server_root, tmp_path
):
    """Code that runs before the kernel binds (a module in the workspace shadowing one the
    kernel imports, say) puts links where the sockets will be: the server refuses them."""
    spec_dir = tmp_path / "kernels" / "liar"
    spec_dir.mkdir(parents=True)
    plant = f"for i in 1 2 3 4 5; do ln -s {tmp_path / 'victim.sock'} {KERNEL_DIR}/ipc-$i; done"
    spec = {"argv": ["/bin/sh", "-c", f"{plant}; exec sleep 600", "{connection_file}"]}
    (spec_dir / "kernel.json").write_text(json.dumps({**spec, "display_name": "liar"}))
    specs = SandboxKernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")])
    with pytest.raises(RuntimeError, match="replaced its socket"):
        start_kernel(server_root / "orgs" / "org_A", kernel_name="liar", specs=specs)


def _pastas() -> set[int]:
    """pids of pasta processes on the machine (the binary is passt)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().startswith("pass"):
                        found.add(int(entry))
            except OSError:
                continue
    return found


def test_a_kernels_user_mode_network_ends_with_the_kernel(start_kernel, server_root):
    """pasta cannot see a namespace held by descriptor go away: without the launcher's
    watchdog every sandboxed kernel left one running for good (here, 782 of them took
    22 GiB before the machine ran out of memory)."""
    before = _pastas()
    kernel = start_kernel(server_root / "orgs" / "org_A")
    for _ in range(100):  # pasta may still be forking into the background: two for a moment
        own = _pastas() - before  # other tests' pastas may end meanwhile, none start
        if len(own) == 1:
            break
        time.sleep(0.1)
    assert len(own) == 1
    kernel.shutdown()
    for _ in range(100):  # bounded wait for the watchdog; asserts no duration
        if not own & _pastas():
            break
        time.sleep(0.1)
    assert not own & _pastas()


FORK_UNTIL_REFUSED = """
import errno, os, signal
children, refused = [], None
for _ in range({attempts}):
    try:
        pid = os.fork()
    except OSError as error:
        refused = errno.errorcode[error.errno]
        break
    if pid == 0:
        try:
            signal.pause()
        finally:
            os._exit(0)
    children.append(pid)
for pid in children:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
print(len(children), refused)
"""


def test_a_kernel_forking_without_end_stops_at_its_own_task_limit(start_kernel, server_root):
    """Every sandbox runs as one OS user, so RLIMIT_NPROC is one budget for all tenants: a
    kernel forking to it would stop everyone else's. Each sandbox has a pids cgroup of its
    own, and only the forking kernel hits its limit."""
    hog = start_kernel(server_root / "orgs" / "org_A", max_tasks=64)
    neighbour = start_kernel(server_root / "orgs" / "org_B", max_tasks=64)
    forked, refused = hog.run(FORK_UNTIL_REFUSED.format(attempts=200)).split()
    assert int(forked) < 64 and refused == "EAGAIN"
    neighbour.run("import subprocess")
    assert neighbour.value("subprocess.run(['true']).returncode") == 0


def test_without_a_task_limit_the_forking_kernel_is_not_stopped(start_kernel, server_root):
    """The attack above, its protection off: the same kernel forks all it tries."""
    hog = start_kernel(server_root / "orgs" / "org_A", max_tasks=0)
    assert hog.run(FORK_UNTIL_REFUSED.format(attempts=200)).split() == ["200", "None"]
