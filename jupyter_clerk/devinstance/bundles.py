"""`GET /npm/<package>@<version>/dist/<file>`: clerk-js and `@clerk/ui` as Clerk's CDN serves them.

The bundles come from the pinned npm dev dependencies of `labextension/` (clerk-js 5 under the
alias `clerk-js-5`). Any version in the path is accepted and mapped by its major version,
because clerk-js asks for its lazily loaded chunks under its exact version (`@6.40.0`) even
when the page loaded `@6`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .base import InstanceHandler
from .errors import not_found

NPM_ROOT_VARIABLE = "CLERK_DEV_NPM_ROOT"
_REPO_NODE_MODULES = Path(__file__).resolve().parents[2] / "labextension" / "node_modules"
_FILE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*\.(?:js|mjs|css|map)$")
_VERSION = re.compile(r"^(?:latest|[0-9]+(?:\.[0-9]+){0,2}(?:-[A-Za-z0-9.]+)?)$")
# (package, major) -> the folder under node_modules holding that build
_PACKAGES = {
    ("@clerk/clerk-js", "5"): "clerk-js-5",
    ("@clerk/clerk-js", "6"): "@clerk/clerk-js",
    ("@clerk/clerk-js", "latest"): "@clerk/clerk-js",
    ("@clerk/ui", "1"): "@clerk/ui",
    ("@clerk/ui", "latest"): "@clerk/ui",
}


def npm_root() -> Path:
    """Where the bundles are installed: `CLERK_DEV_NPM_ROOT`, else the repository's."""
    configured = os.environ.get(NPM_ROOT_VARIABLE)
    return Path(configured) if configured else _REPO_NODE_MODULES


def bundle_path(root: Path, package: str, version: str, name: str) -> Path | None:
    """The installed file for a CDN path, or None for anything not served."""
    if not _VERSION.match(version) or not _FILE.match(name):
        return None
    folder = _PACKAGES.get((package, version.split(".")[0]))
    if folder is None:
        return None
    path = root / folder / "dist" / name
    return path if path.is_file() else None


class BundleHandler(InstanceHandler):
    """Public, like Clerk's CDN: loaded by `<script crossorigin>` from any origin."""

    def check_xsrf_cookie(self) -> None:
        return

    def get(self, package: str, version: str, name: str) -> None:
        root = npm_root()
        path = bundle_path(root, package, version, name)
        if path is None:
            raise not_found(
                f"{package}@{version}/dist/{name} is not installed under {root} "
                "(run `make env`, which installs labextension's npm dev dependencies)."
            )
        content_type = "text/css" if name.endswith(".css") else "application/javascript"
        self.set_header("Content-Type", f"{content_type}; charset=UTF-8")
        self.set_header("Access-Control-Allow-Origin", "*")
        self.set_header("Cache-Control", "public, max-age=3600")
        self.finish(path.read_bytes())
