"""Hub mode's top bar: what its list of workspaces costs the Hub, in one run.

`GET /hub/api/clerk/workspaces` (asked at every JupyterLab page load and whenever the switcher
menu opens) against the Hub's own `GET /hub/api/user` with the same token (the one a JupyterLab
page holds, the only token the list takes), taken in turns, through the proxy. Both read the
person from the token; the list adds the membership cache and the names. Expect about the
same (≈1×).

    .venv/bin/python -m bench.hub_switcher [--requests 300]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from tests.hub.stack import ADA, ENGINES, Browser, run_hub
from tests.hub.test_hub_end_to_end import open_server, page_token, sign_in


def per_request_ms(client: Browser, path: str, token: str, count: int) -> float:
    headers = {"Authorization": f"token {token}"}
    start = time.perf_counter()
    for _ in range(count):
        status, _, _ = client.get(path, headers=headers)
        if status != 200:
            raise RuntimeError(f"{path}: {status}")
    return (time.perf_counter() - start) * 1000 / count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, run_hub(Path(tmp), webhooks=False) as hub:
        browser = sign_in(hub, ADA)
        open_server(browser, ADA, ENGINES)
        token = page_token(browser, ADA, ENGINES)
        client = Browser(hub.url)
        paths = {"list": "/hub/api/clerk/workspaces", "baseline": "/hub/api/user"}
        for path in paths.values():  # warm both (the membership cache included)
            per_request_ms(client, path, token, 10)
        rounds: dict[str, list[float]] = {name: [] for name in paths}
        batch = max(1, args.requests // 6)
        for _ in range(6):  # in turns, so that the machine's load falls on both alike
            for name, path in paths.items():
                rounds[name].append(per_request_ms(client, path, token, batch))
        list_ms = statistics.median(rounds["list"])
        base_ms = statistics.median(rounds["baseline"])
        print(
            f"GET /hub/api/clerk/workspaces {list_ms:.2f} ms vs GET /hub/api/user "
            f"{base_ms:.2f} ms per request ({list_ms / base_ms:.2f}×, {6 * batch} each, "
            "sequential, through the proxy)"
        )


if __name__ == "__main__":
    main()
