"""A kernel in organization A's sandbox against everything that is not organization A's."""

from __future__ import annotations

import os
import socket
import stat
import sys
from pathlib import Path

from jupyter_core.paths import jupyter_runtime_dir

from jupyter_clerk.sandbox.policy import python_paths
from tests.sandbox.conftest import SECRET_KEY

OPEN = """
def attempt(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError as error:
        return type(error).__name__
"""


def test_kernel_cannot_read_another_organizations_files(start_kernel, server_root):
    kernel = start_kernel(server_root / "orgs" / "org_A")
    kernel.run(OPEN)
    other = server_root / "orgs" / "org_B" / "private.txt"
    attempts = [str(other), "/workspace/../org_B/private.txt", "../org_B/private.txt"]
    assert kernel.value(f"[attempt(p) for p in {attempts!r}]") == ["FileNotFoundError"] * 3
    personal = server_root / "users" / "user_A" / "private.txt"
    assert kernel.value(f"attempt({str(personal)!r})") == "FileNotFoundError"


def test_kernel_cannot_list_the_workspace_directories(start_kernel, server_root):
    kernel = start_kernel(server_root / "orgs" / "org_A")
    for path in (server_root, server_root / "orgs", server_root / "users"):
        assert kernel.value(f"os.path.exists({str(path)!r})") is False
    assert kernel.value("os.listdir('/workspace/..').count('workspace')") == 1
    # Top level: system directories, the Python environment's roots and private mounts only.
    allowed = {"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "proc", "dev"}
    allowed |= {"tmp", "home", "run", "workspace"}
    allowed |= {Path(p).parts[1] for p in python_paths()}
    assert set(kernel.value("os.listdir('/')")) <= allowed
    assert "org_B" not in kernel.value("[d for _, ds, _ in os.walk('/workspace') for d in ds]")


def test_kernel_cannot_see_the_runtime_directory_or_other_kernels_files(start_kernel, server_root):
    other = start_kernel(server_root / "orgs" / "org_B")
    kernel = start_kernel(server_root / "orgs" / "org_A")
    for path in (
        other.km.connection_file,
        os.path.dirname(other.km.connection_file),
        os.path.dirname(other.km.ip),  # the other kernel's IPC sockets
        kernel.km.connection_file,  # even its own server-side file
        jupyter_runtime_dir(),
    ):
        assert kernel.value(f"os.path.exists({path!r})") is False, path
    own = kernel.value("sorted(os.listdir('/run/kernel'))")
    assert own == sorted(os.listdir(os.path.dirname(kernel.km.ip)))  # its sockets, linked


def test_kernel_environment_holds_no_server_secrets(start_kernel, server_root):
    kernel = start_kernel(server_root / "orgs" / "org_A")
    names = set(kernel.value("list(os.environ)"))
    assert names.isdisjoint({"CLERK_SECRET_KEY", "JUPYTER_TOKEN", "MY_API_PASSWORD"})
    assert "JPY_PARENT_PID" not in names  # the server's pid
    environments = kernel.value(
        "[open(f'/proc/{p}/environ', 'rb').read().decode(errors='replace') "
        "for p in os.listdir('/proc') if p.isdigit()]"
    )
    assert environments and not any(SECRET_KEY in e for e in environments)


def test_kernel_cannot_signal_or_trace_the_server(start_kernel, server_root):
    kernel = start_kernel(server_root / "orgs" / "org_A")
    server = os.getpid()
    kernel.run(
        "import ctypes, errno, signal\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "def trace(pid):  # PTRACE_SEIZE: would not even stop the server if it worked\n"
        "    return libc.ptrace(0x4206, pid, None, None), ctypes.get_errno()\n"
        "def kill(pid):  # signal 0: the permission check without the signal\n"
        "    try:\n"
        "        os.kill(pid, 0)\n"
        "    except OSError as error:\n"
        "        return type(error).__name__\n"
    )
    assert kernel.value(f"kill({server})") == "ProcessLookupError"
    assert kernel.value(f"trace({server})") == [-1, 3]  # ESRCH: no such process here
    visible = kernel.value(
        "[open(f'/proc/{p}/cmdline').read() for p in os.listdir('/proc') if p.isdigit()]"
    )
    assert Path(f"/proc/{server}/cmdline").read_text() not in visible
    assert os.path.exists(f"/proc/{server}")  # still alive


def test_kernel_reads_and_writes_its_own_workspace(start_kernel, server_root):
    workspace = server_root / "orgs" / "org_A"
    kernel = start_kernel(workspace)
    assert kernel.value("os.getcwd()") == "/workspace"
    assert kernel.value("open('private.txt').read()") == "only for orgs/org_A"
    kernel.run("open('results.csv', 'w').write('a,b\\n1,2\\n'); os.makedirs('out/deep')")
    assert (workspace / "results.csv").read_text() == "a,b\n1,2\n"
    assert (workspace / "out" / "deep").is_dir()


def test_kernel_imports_installed_packages_and_plots(start_kernel, server_root):
    workspace = server_root / "orgs" / "org_A"
    kernel = start_kernel(workspace)
    kernel.run(
        "import matplotlib\n"
        "matplotlib.use('Agg')\n"
        "import matplotlib.pyplot as plt, numpy as np\n"
        "plt.plot(np.arange(10), np.arange(10) ** 2)\n"
        "plt.savefig('plot.png')\n"
    )
    assert (workspace / "plot.png").read_bytes().startswith(b"\x89PNG")


def test_kernel_has_a_private_tmp_and_home(start_kernel, server_root, tmp_path):
    kernel = start_kernel(server_root / "orgs" / "org_A")
    other = start_kernel(server_root / "orgs" / "org_B")
    marker = f"clerk-sandbox-{os.getpid()}"
    kernel.run(
        f"import os; open('/tmp/{marker}', 'w'); open(os.path.expanduser('~/{marker}'), 'w')"
    )
    assert kernel.value("os.path.expanduser('~')") == "/home/jovyan"
    assert not os.path.exists(f"/tmp/{marker}")
    assert other.value(f"os.path.exists('/tmp/{marker}')") is False
    assert other.value(f"os.path.exists(os.path.expanduser('~/{marker}'))") is False


def test_kernel_interrupts_and_restarts_normally(start_kernel, server_root, jp_asyncio_loop):
    kernel = start_kernel(server_root / "orgs" / "org_A")
    client = kernel.client
    msg_id = client.execute("import time; print('sleeping', flush=True); time.sleep(600)")
    while True:  # the cell is running once it has printed
        message = jp_asyncio_loop.run_until_complete(client.get_iopub_msg(timeout=60))
        if message["msg_type"] == "stream":
            break
    jp_asyncio_loop.run_until_complete(kernel.km.interrupt_kernel())
    reply = jp_asyncio_loop.run_until_complete(client.get_shell_msg(timeout=60))
    while reply["parent_header"]["msg_id"] != msg_id:  # kernel_info replies of the start
        reply = jp_asyncio_loop.run_until_complete(client.get_shell_msg(timeout=60))
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    # ipykernel aborts what reaches it while it is still handling the error: let that pass.
    jp_asyncio_loop.run_until_complete(client.execute_interactive("", timeout=60))
    assert kernel.value("1 + 1") == 2  # the kernel survived its interrupt

    kernel.run("x = 42")
    jp_asyncio_loop.run_until_complete(kernel.km.restart_kernel())
    kernel.wait_ready()
    assert kernel.value("'x' in globals()") is False
    assert kernel.value("os.getcwd()") == "/workspace"
    assert kernel.value(f"os.path.exists({str(server_root)!r})") is False


def test_kernel_talks_over_ipc_sockets_in_a_private_directory(start_kernel, server_root):
    kernel = start_kernel(server_root / "orgs" / "org_A")
    assert kernel.km.transport == "ipc"
    private = Path(kernel.km.ip).parent.parent
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    sockets = [p for p in Path(kernel.km.ip).parent.iterdir() if p.is_socket()]
    assert len(sockets) == 5  # shell, iopub, stdin, control, heartbeat
    connection = kernel.value("_j.load(open('/run/connection.json'))")
    assert connection["transport"] == "ipc" and connection["ip"] == "/run/kernel/ipc"
    kernel.shutdown()
    assert not private.exists()


def test_network_is_private_by_default_and_the_host_network_an_opt_in(start_kernel, server_root):
    interfaces = "sorted(name for _, name in socket.if_nameindex())"
    host = sorted(name for _, name in socket.if_nameindex())
    private = start_kernel(server_root / "orgs" / "org_A")
    private.run("import socket")
    assert private.value(interfaces) != host and "lo" in private.value(interfaces)
    loopback = start_kernel(server_root / "orgs" / "org_B", network="loopback")
    loopback.run("import socket")
    assert loopback.value(interfaces) == ["lo"]
    shared = start_kernel(server_root / "users" / "user_A", network="host")
    shared.run("import socket")
    assert shared.value(interfaces) == host


def test_resource_limits_reach_every_process_of_the_sandbox(start_kernel, server_root):
    limit = 3 * 2**30
    # RLIMIT_NPROC counts every task of the sandbox uid on the machine, which all sandboxes
    # share (and ended ones may still be counted for a while): a low number here would make
    # the kernel's own start depend on what else ran before.
    processes = 50_000
    kernel = start_kernel(
        server_root / "orgs" / "org_A",
        memory_limit=limit,
        max_processes=processes,
        cpu_time_limit=3600,
    )
    kernel.run("import resource, subprocess")
    assert kernel.value("resource.getrlimit(resource.RLIMIT_AS)") == [limit, limit]
    assert kernel.value("resource.getrlimit(resource.RLIMIT_NPROC)") == [processes, processes]
    assert kernel.value("resource.getrlimit(resource.RLIMIT_CPU)") == [3600, 3600]
    child = f"{sys.executable!r}, '-c', 'import resource; print(resource.getrlimit(9)[0])'"
    assert kernel.value(f"int(subprocess.check_output([{child}]))") == limit  # 9: RLIMIT_AS
    kernel.run(
        "try:\n"
        f"    block = bytearray({2 * limit})\n"
        "    print('allocated')\n"
        "except MemoryError:\n"
        "    print('refused')\n"
    )
    assert kernel.run("print('alive')") == "alive\n"
    assert kernel.run("print('allocated' if 'block' in globals() else 'refused')") == "refused\n"
