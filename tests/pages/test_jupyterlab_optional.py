"""`pip install jupyter-clerk` without the `lab` extra must still serve `jupyter server`."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.forge import ISSUER, PARTY, Forge

# Runs a real server in a child interpreter in which JupyterLab cannot be imported, then asks
# it for a directory listing with a Clerk token.
CHILD = textwrap.dedent(
    """
    import json, sys
    for name in ("jupyterlab", "jupyterlab_server", "jupyter_lsp"):
        sys.modules[name] = None  # as if not installed: importing it raises ImportError
    import asyncio
    from jupyter_server.serverapp import ServerApp
    from tornado.httpclient import AsyncHTTPClient

    args = json.loads(sys.argv[1])
    app = ServerApp()
    app.initialize(
        [
            "--ServerApp.jpserver_extensions={'jupyter_clerk': True}",
            "--ServerApp.port=0", "--ServerApp.open_browser=False", "--ServerApp.allow_root=True",
            f"--ServerApp.root_dir={args['root']}",
            f"--ClerkIdentityProvider.jwt_key={args['pem']}",
            f"--ClerkIdentityProvider.issuer={args['issuer']}",
            f"--ClerkIdentityProvider.authorized_parties={args['party']}",
        ],
        find_extensions=False,
    )
    loaded = "jupyter_clerk" in app.extension_manager.extensions
    app.start_app()

    async def ask():
        response = await AsyncHTTPClient().fetch(
            f"{app.connection_url}api/contents",
            headers={"Authorization": "Bearer " + args["token"]},
            raise_error=False,
        )
        lab = sys.modules.get("jupyterlab") is not None
        print(json.dumps({"loaded": loaded, "status": response.code, "lab": lab}))

    asyncio.get_event_loop().run_until_complete(ask())
    """
)


def test_the_extension_serves_jupyter_server_without_jupyterlab(tmp_path) -> None:
    forge = Forge()
    args = {
        "root": str(tmp_path),
        "pem": forge.public_pem,
        "issuer": ISSUER,
        "party": PARTY,
        "token": forge.token(),
    }
    result = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer == {"loaded": True, "status": 200, "lab": False}
