"""Workspace-scoped managers against Jupyter's stock ones, and Backend API calls in steady state.

1. Requests/s of `GET /api/contents/<dir>` (a listing), `GET /api/contents/<file>` and of a
   notebook save, with the workspace managers (every path resolved beneath the workspace's
   descriptor) vs the stock managers (same Clerk identity provider), in the same run.
   Target ≥ 0.9×. The server's CPU time per request is printed beside them: it moves
   much less than requests/s when other work shares the machine.
2. Backend API calls per 10 000 requests from 50 people × 3 organizations, each request in
   an organization other than its token's (so each needs a membership), after a warm-up.
   Target: at most one call per person per membership TTL.

    .venv/bin/python -m bench.workspaces [--requests 2000] [--rounds 2] [--managers-only]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time

import nbformat
from tornado.httpclient import AsyncHTTPClient

from bench.http import (
    CLERK_PROVIDER_ONLY,
    WARM_UP,
    clerk_environment,
    cpu_seconds,
    load,
    populate,
    server,
    server_process,
)
from bench.verify import ISSUER, make_token
from jupyter_clerk.devinstance import DevInstance
from jupyter_clerk.devinstance.data import parse_data
from jupyter_clerk.devinstance.signing import SigningKey

USER = "user_2aBenchUser"  # the `sub` of bench.verify's token
SCOPED = [
    f"--ClerkIdentityProvider.issuer={ISSUER}",
    "--ServerApp.jpserver_extensions={'jupyter_clerk': True}",
]
NOTEBOOK = json.dumps(
    {
        "type": "notebook",
        "content": json.loads(
            nbformat.writes(
                nbformat.v4.new_notebook(
                    cells=[nbformat.v4.new_code_cell("1+1") for _ in range(20)]
                )
            )
        ),
    }
)


def managers_round(
    args: list[str], env: dict[str, str], headers: dict[str, str], scoped: bool, opts
) -> list[tuple[float, float]]:
    """Requests/s and server CPU seconds per request of a listing, a get and a save."""
    with server_process(args, env) as (base_url, root, process):
        directory = os.path.join(root, "orgs", "org_2aBench") if scoped else root
        populate(os.path.join(directory, "data"))
        loads = [
            ("api/contents/data", opts.requests, {}),
            ("api/contents/data/file0.txt", opts.requests, {}),
            ("api/contents/data/n.ipynb", opts.requests // 2, {"method": "PUT", "body": NOTEBOOK}),
        ]
        results = []
        for path, requests, kwargs in loads:
            before = cpu_seconds(process.pid)
            rate = asyncio.run(load(base_url + path, headers, requests, opts.concurrency, **kwargs))
            results.append((rate, (cpu_seconds(process.pid) - before) / (requests + WARM_UP)))
        return results


def compare_managers(opts) -> None:
    key = SigningKey.generate()
    env = clerk_environment(key)
    headers = {"Authorization": f"Bearer {make_token(key)}"}
    stock, scoped = [], []
    for _ in range(opts.rounds):
        stock.append(managers_round(CLERK_PROVIDER_ONLY, env, headers, False, opts))
        scoped.append(managers_round(SCOPED, env, headers, True, opts))
    names = ("GET /api/contents/<dir>", "GET /api/contents/<file>", "PUT notebook (save)")
    print(f"best of {opts.rounds} rounds; CPU is the server's (all threads) per request")
    for index, name in enumerate(names):
        best_stock = max(r[index][0] for r in stock)
        best_scoped = max(r[index][0] for r in scoped)
        cpu_stock = min(r[index][1] for r in stock)
        cpu_scoped = min(r[index][1] for r in scoped)
        print(
            f"{name:<26} stock {best_stock:7.0f}/s  workspaces {best_scoped:7.0f}/s  "
            f"ratio {best_scoped / best_stock:5.2f}×  (target ≥ 0.9×)   "
            f"CPU {cpu_stock * 1e3:6.2f} vs {cpu_scoped * 1e3:6.2f} ms/request  "
            f"ratio {cpu_stock / cpu_scoped:5.2f}×"
        )


def directory(people: int, orgs_per_person: int) -> dict:
    organizations = [
        {"id": f"org_2aBench{n}", "name": f"Bench {n}", "slug": f"bench-{n}"}
        for n in range(orgs_per_person)
    ]
    users = [
        {
            "id": f"user_2aBench{n}",
            "first_name": "Bench",
            "last_name": str(n),
            "username": f"bench{n}",
            "email": f"bench{n}@example.com",
            "memberships": [
                {"id": f"orgmem_2aBench{n}x{o}", "organization_id": org["id"], "role": "org:member"}
                for o, org in enumerate(organizations)
            ],
        }
        for n in range(people)
    ]
    roles = {"org:member": {"name": "Member", "permissions": ["org:jupyter:read"]}}
    return {"roles": roles, "organizations": organizations, "users": users}


async def steady_state_calls(opts) -> None:
    people, orgs, total = 50, 3, 10_000
    instance = DevInstance(
        parse_data(directory(people, orgs)),
        allowed_origins=["http://127.0.0.1:*"],
        token_lifetime=3600,
    )
    await instance.start()
    env = {
        "CLERK_PUBLISHABLE_KEY": instance.publishable_key,
        "CLERK_SECRET_KEY": instance.secret_key,
        "CLERK_API_URL": instance.api_url,
        "CLERK_ALLOW_LOCAL_INSTANCE": "1",
    }
    args = [
        "--ServerApp.jpserver_extensions={'jupyter_clerk': True}",
        "--ClerkIdentityProvider.skip_authorized_parties_check=True",
    ]
    # Every request names an organization other than its token's: a membership is needed.
    tabs = []
    for n in range(people):
        user = f"user_2aBench{n}"
        token = instance.session_token(instance.create_session(user, "org_2aBench0").id, azp=None)
        for o in range(1, orgs):
            tabs.append(
                {"Authorization": f"Bearer {token}", "X-Clerk-Workspace": f"org_2aBench{o}"}
            )
    loop = asyncio.get_running_loop()
    with server(args, env) as (base_url, _root):
        client = AsyncHTTPClient(max_clients=opts.concurrency)
        url = base_url + "api/me"
        for headers in tabs:  # warm-up: one membership lookup per person
            assert (await client.fetch(url, headers=headers)).code == 200
        before = instance.faults.calls_to(r"/organization_memberships")
        start = loop.time()
        queue = iter(range(total))

        async def worker() -> None:
            for n in queue:
                await client.fetch(url, headers=tabs[n % len(tabs)])

        await asyncio.gather(*(worker() for _ in range(opts.concurrency)))
        elapsed = loop.time() - start
        calls = instance.faults.calls_to(r"/organization_memberships") - before
    await instance.stop()
    ttl_windows = max(1.0, elapsed / 60.0)
    print(
        f"{total} requests, {people} people × {orgs} organizations, {elapsed:.0f} s: "
        f"{calls} Backend API membership calls in steady state "
        f"({calls / people / ttl_windows:.2f} per person per 60 s TTL; target ≤ 1)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--managers-only", action="store_true")
    opts = parser.parse_args()
    compare_managers(opts)
    if opts.managers_only:
        return
    started = time.perf_counter()
    asyncio.run(steady_state_calls(opts))
    print(f"(steady-state run took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
