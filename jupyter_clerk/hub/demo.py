"""`make hub-demo`: the local Clerk instance and a JupyterHub behind it, offline.

Development only: the instance signs anyone in as any demo person. The Hub runs with
configurable-http-proxy, one local single-user server per (person, workspace) under
`.demo/hub/workspaces`, and the webhook service, to which the instance sends its webhooks.
The same pieces start the Hub for the tests and the benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import signal
import sys
from pathlib import Path

from ..devinstance.__main__ import BANNER
from ..devinstance.demo import DEMO_TOKEN_LIFETIME, people, server_environment
from ..devinstance.instance import DevInstance
from .config import WEBHOOK_SERVICE

_CONFIG = """\
import os

from jupyter_clerk.hub.config import configure_hub

configure_hub(c, webhook_service_url={service_url!r})
c.JupyterHub.bind_url = {hub_url!r}
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_api_port}"
c.JupyterHub.db_url = "sqlite:///{directory}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{directory}/cookie_secret"
c.JupyterHub.pid_file = "{directory}/jupyterhub.pid"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.pid_file = "{directory}/proxy.pid"
c.JupyterHub.spawner_class = {spawner!r}
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.ClerkAuthenticator.workspaces_root = "{directory}/workspaces"
if os.geteuid() == 0:  # containers and CI machines often run as root
    c.Spawner.args = ["--allow-root"]
"""


def proxy_command() -> str:
    """configurable-http-proxy from the venv (`make hub-env`) or the PATH."""
    local = Path(sys.executable).parent / "configurable-http-proxy"
    found = str(local) if local.exists() else shutil.which("configurable-http-proxy")
    if not found:
        raise SystemExit("configurable-http-proxy is missing: run `make hub-env`.")
    return found


def write_hub_config(
    directory: Path,
    hub_url: str,
    ports: tuple[int, int, int],
    *,
    spawner: str = "simple",
    extra: str = "",
) -> Path:
    """A jupyterhub_config.py for a Hub on `hub_url`; ports: Hub API, proxy API, service."""
    hub_api_port, proxy_api_port, service_port = ports
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "jupyterhub_config.py"
    path.write_text(
        _CONFIG.format(
            service_url=f"http://127.0.0.1:{service_port}",
            hub_url=hub_url,
            hub_api_port=hub_api_port,
            proxy_api_port=proxy_api_port,
            directory=directory.resolve(),
            proxy=proxy_command(),
            spawner=spawner,
            singleuser=str(Path(sys.executable).parent / "jupyterhub-singleuser"),
        )
        + extra
    )
    return path


def webhook_url(hub_url: str) -> str:
    return f"{hub_url}/services/{WEBHOOK_SERVICE}/webhooks"


def hub_environment(instance: DevInstance, hub_url: str) -> dict[str, str]:
    """The Hub's environment: the instance's settings, a crypt key for auth_state."""
    assert instance.webhooks is not None, "configure the instance's webhooks first"
    return {
        **server_environment(instance, hub_url),
        "CLERK_SIGN_IN_URL": f"{instance.url}/sign-in",
        "CLERK_WEBHOOK_SIGNING_SECRET": instance.webhooks.secret,
        "JUPYTERHUB_CRYPT_KEY": secrets.token_hex(32),
    }


def hub_command(config: Path) -> list[str]:
    return [sys.executable, "-m", "jupyterhub", "-f", str(config)]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make hub-demo", description=__doc__.splitlines()[0])
    parser.add_argument("--clerk-port", type=int, default=int(os.environ.get("CLERK_PORT", 8765)))
    parser.add_argument("--port", type=int, default=int(os.environ.get("HUB_PORT", 8000)))
    parser.add_argument("--directory", type=Path, default=Path(".demo/hub"))
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> int:
    hub_url = f"http://127.0.0.1:{args.port}"
    instance = DevInstance(
        port=args.clerk_port, allowed_origins=[hub_url], token_lifetime=DEMO_TOKEN_LIFETIME
    )
    instance.configure_webhooks(webhook_url(hub_url))
    await instance.start()
    config = write_hub_config(
        args.directory, hub_url, (args.port + 1, args.port + 2, args.port + 3)
    )
    print(BANNER)
    print(f"\nLocal Clerk instance: {instance.url}\nStarting JupyterHub…", flush=True)
    hub = await asyncio.create_subprocess_exec(
        *hub_command(config), env=hub_environment(instance, hub_url)
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, hub.terminate)
    await asyncio.sleep(5)
    if hub.returncode is None:
        print(
            f"\nOpen {hub_url}/hub/ and sign in as one of the demo people:\n"
            f"{people(instance.data)}\n\nEach organization is a named server: "
            f"{hub_url}/hub/home lists them.\nPress Ctrl-C to stop.",
            flush=True,
        )
    code = await hub.wait()
    await instance.stop()
    return code


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
