"""What `make demo` needs before it spends a minute on a virtual environment: ports and Node.

Standard library only: the Makefile runs this file with the system Python before `.venv`
exists, and the demo launcher runs it again just before it binds (a port may have been taken
in between).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys

HOST = "127.0.0.1"
NODE_MAJOR = 20
# environment variable: (default port, what listens there)
PORTS = {
    "JUPYTER_PORT": (8888, "JupyterLab"),
    "CLERK_PORT": (8765, "the local Clerk instance"),
}


class PreflightError(Exception):
    """A plain sentence for the person running `make demo`; never a traceback."""


def demo_port(variable: str) -> int:
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return PORTS[variable][0]
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise PreflightError(f"{variable}={raw!r} is not a port number (1-65535).")
    return int(raw)


def require_free_port(port: int, variable: str) -> None:
    purpose = PORTS[variable][1]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Same option as the servers that will bind it: a port in TIME_WAIT counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            raise PreflightError(
                f"Port {port} on {HOST} (for {purpose}) is already in use. Stop what listens "
                f"there, or choose another port: {variable}=<port> make demo"
            ) from None


def check_ports() -> dict[str, int]:
    ports = {variable: demo_port(variable) for variable in PORTS}
    require_free_ports(ports)
    return ports


def require_free_ports(ports: dict[str, int]) -> None:
    if ports["JUPYTER_PORT"] == ports["CLERK_PORT"]:
        raise PreflightError("JUPYTER_PORT and CLERK_PORT must differ.")
    for variable, port in ports.items():
        require_free_port(port, variable)


def check_node() -> None:
    """The JupyterLab extension is built from source: Node.js ≥ 20 and npm."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(name for name, path in (("node", node), ("npm", npm)) if not path)
        raise PreflightError(
            f"{missing} not found. `make demo` builds the JupyterLab extension from source and "
            f"needs Node.js >= {NODE_MAJOR} with npm (e.g. `apt-get install nodejs npm`, or "
            "https://nodejs.org). Installing the wheel needs no Node.js."
        )
    version = subprocess.run(  # noqa: S603  (a fixed argument list, no shell)
        [node, "--version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout.strip()
    match = re.match(r"v(\d+)\.", version)
    if match is None or int(match.group(1)) < NODE_MAJOR:
        raise PreflightError(
            f"Node.js {version or '(unknown version)'} is too old: the JupyterLab extension "
            f"needs Node.js >= {NODE_MAJOR}."
        )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        if "--ports-only" not in args:
            check_node()
        check_ports()
    except PreflightError as exc:
        print(f"make demo: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
