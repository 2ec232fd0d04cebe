"""How costs grow with people, open kernel WebSockets, ended sessions and Clerk calls.

Ratios are against plain Jupyter (token auth) started in the same run with the same raised
socket limits (the extension loaded with `configure_server=False`, which only raises limits).

    .venv/bin/python -m bench.scale                      # everything (~15 min)
    .venv/bin/python -m bench.scale --only revocation    # revocation, token cache, Clerk calls
    .venv/bin/python -m bench.scale --only people
    .venv/bin/python -m bench.scale --only websockets [--sockets 100,500,1000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import resource
import secrets
import statistics
import time
import tracemalloc
import uuid
from dataclasses import dataclass

from tornado.httpclient import AsyncHTTPClient
from websockets.asyncio.client import connect

from bench.http import CLERK_PROVIDER_ONLY, clerk_environment, cpu_seconds, populate, server
from bench.verify import ISSUER, PARTY
from jupyter_clerk.auth.claims import parse_session_claims
from jupyter_clerk.cache import ExpiringLRU
from jupyter_clerk.clerk_api.client import spend_request_budget
from jupyter_clerk.clerk_api.memberships import MembershipCache
from jupyter_clerk.clerk_api.models import Membership, Session, User
from jupyter_clerk.clerk_api.profiles import ProfileCache
from jupyter_clerk.devinstance.signing import SigningKey
from jupyter_clerk.revocation.denylist import Revocation
from jupyter_clerk.revocation.open_sockets import (
    MembershipCheck,
    OpenSockets,
    SessionRevalidator,
    SocketOwner,
)
from jupyter_clerk.workspaces.authorizer import membership_actions

# --- helpers --------------------------------------------------------------------------------


def payload(n: int, *, org: bool = True) -> dict:
    now = int(time.time())
    claims = {
        "azp": PARTY,
        "exp": now + 3600,
        "iat": now,
        "iss": ISSUER,
        "nbf": now - 5,
        "sid": f"sess_2aBench{n}",
        "sub": f"user_2aBench{n % 1000}",
        "v": 2,
    }
    if org:
        claims["fea"] = "o:jupyter"
        org_id = f"org_2aBench{n % 50}"
        claims["o"] = {"id": org_id, "rol": "admin", "slg": "b", "per": "read", "fpm": "1"}
    return claims


def token_for(key: SigningKey, n: int) -> str:
    header = {"alg": "RS256", "kid": key.kid, "typ": "JWT"}
    return key.sign(header, payload(n, org=False))


SMALL_STEP = 200  # sockets: steps up to this are measured in several trials


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98]


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


@dataclass(eq=False)
class FakeSocket:
    def close(self, code: int, reason: str) -> None:
        pass


# --- revocation, token cache, Clerk calls (in process) --------------------------------------


async def revocation_round(ended: int) -> float:
    """CPU seconds of one revalidation round in which every session has ended."""
    tokens: ExpiringLRU[bytes, object] = ExpiringLRU(100_000, time.monotonic)
    sockets = OpenSockets()
    held = [FakeSocket() for _ in range(ended)]
    revocation = Revocation(tokens, None, None, sockets)  # type: ignore[arg-type]
    for n, handler in enumerate(held):
        sockets.track(handler, SocketOwner(f"user_{n}", f"sess_2aBench{n}", "org_x"))
        tokens.put(f"t{n}".encode(), parse_session_claims(payload(n)), time.monotonic() + 60)

    # Each fake call is one request to Clerk: it spends the round's budget as BackendAPI does.
    async def get_session(session_id: str) -> Session:
        await spend_request_budget()
        return Session(session_id, "user_x", "client_x", "revoked", None, 0, 0)

    async def no_memberships(user_id: str) -> list[Membership]:
        await spend_request_budget()
        return []

    # The round's membership pass runs too (over the sockets still open: none by then).
    check = MembershipCheck(
        MembershipCache(no_memberships), membership_actions, revocation.membership_lost
    )
    revalidator = SessionRevalidator(
        sockets,
        get_session,
        300,
        on_ended=revocation.session_ended,
        memberships=check,
        calls_per_second=1e9,
    )
    start = time.process_time()
    closed = await revalidator.check_now()
    cpu = time.process_time() - start
    assert closed == ended and len(tokens) == 0
    return cpu


def webhook_cost(cached: int, webhooks: int = 1000) -> float:
    """CPU seconds per session.revoked webhook with `cached` verified tokens and sockets."""
    tokens: ExpiringLRU[bytes, object] = ExpiringLRU(cached * 2, time.monotonic)
    sockets = OpenSockets()
    held = [FakeSocket() for _ in range(cached)]
    revocation = Revocation(tokens, None, None, sockets)  # type: ignore[arg-type]
    for n, handler in enumerate(held):
        sockets.track(handler, SocketOwner(f"user_{n}", f"sess_2aBench{n}", "org_x"))
        tokens.put(f"t{n}".encode(), parse_session_claims(payload(n)), time.monotonic() + 60)
    start = time.process_time()
    for n in range(webhooks):
        revocation.session_ended(f"sess_2aBench{n}", "revoked")
    return (time.process_time() - start) / webhooks


def token_cache_bytes(entries: int) -> float:
    """Bytes per verified-token cache entry: digest key, parsed claims, LRU entry, index."""
    payloads = [payload(n) for n in range(entries)]  # the token's JSON: transient, not kept
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tokens: ExpiringLRU[bytes, object] = ExpiringLRU(entries, time.monotonic)
    Revocation(tokens, None, None, OpenSockets())  # adds the revocation index
    for claims in payloads:
        tokens.put(secrets.token_bytes(32), parse_session_claims(claims), time.monotonic() + 60)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / entries


async def clerk_calls_per_person_hour(people: int, *, webhooks: bool) -> dict[str, float]:
    """A simulated steady hour (virtual clock, real caches and revalidator) → calls/person/h.

    Each person: one tab in their token's organization and one in another organization
    (a membership lookup), a request every 10 s in each, a page load every 5 minutes, and
    one open kernel WebSocket per tab; revalidation re-checks sessions and memberships.
    """
    now = [0.0]
    clock = lambda: now[0]  # noqa: E731
    calls = {"memberships": 0, "profiles": 0, "sessions": 0}

    async def lookup(user_id: str) -> list[Membership]:
        await spend_request_budget()  # a request to Clerk, as BackendAPI counts it
        calls["memberships"] += 1
        return [Membership("orgmem_x", user_id, "org_x", "x", "X", "org:member", frozenset())]

    async def get_user(user_id: str) -> User:
        calls["profiles"] += 1
        return User(user_id, None, "A", "B", None, False, False)

    async def get_session(session_id: str) -> Session:
        await spend_request_budget()
        calls["sessions"] += 1
        return Session(session_id, "user_x", "client_x", "active", None, 0, 0)

    async def no_sleep(seconds: float) -> None:
        return None

    memberships = MembershipCache(lookup, ttl=60, stale=30, clock=clock)
    profiles = ProfileCache(get_user, ttl=600, clock=clock)
    sockets = OpenSockets()
    held = [FakeSocket() for _ in range(2 * people)]
    for n, handler in enumerate(held):
        sockets.track(handler, SocketOwner(f"user_{n // 2}", f"sess_{n // 2}", "org_x"))
    revocation = Revocation(ExpiringLRU(10, clock), None, memberships, sockets)
    check = MembershipCheck(memberships, membership_actions, revocation.membership_lost)
    revalidator = SessionRevalidator(
        sockets,
        get_session,
        300,
        memberships=check,
        calls_per_second=1e9,
        clock=clock,
        sleep=no_sleep,
    )
    if webhooks:
        revalidator.webhooks_configured(6)
        memberships.webhooks_configured(6)
    next_round = revalidator.interval
    for second in range(0, 3600, 10):
        now[0] = float(second)
        for person in range(people):
            await memberships.memberships(f"user_{person}")
            if second % 300 == 0:
                await profiles.profile(f"user_{person}")
        for _ in range(1000):  # let the background refreshes (instant fakes) finish
            if not memberships._loads:
                break
            await asyncio.sleep(0)
        if second >= next_round:
            await revalidator.check_now()
            next_round += revalidator.interval
    return {name: count / people for name, count in calls.items()}


@dataclass(frozen=True)
class InProcessSizes:
    """What the in-process part measures; tests run it tiny, so that it cannot rot."""

    ended_sessions: tuple[int, ...] = (250, 1000, 4000)
    cached_tokens: int = 10_000
    webhooks: int = 1000
    cache_entries: tuple[int, ...] = (10_000, 100_000)
    people: int = 200


def run_in_process(sizes: InProcessSizes = InProcessSizes()) -> None:
    print("Revocation: one revalidation round in which every session has ended (CPU)")
    for ended in sizes.ended_sessions:
        cpu = min(asyncio.run(revocation_round(ended)) for _ in range(3))
        print(f"  {ended:5d} sessions: {cpu * 1000:7.1f} ms   (target ≤ 50 ms at 4 000)")
    cost = webhook_cost(sizes.cached_tokens, sizes.webhooks)
    print(
        f"Revocation: one session.revoked webhook at {sizes.cached_tokens:,} cached tokens: "
        f"{cost * 1e6:.1f} µs"
    )
    print("Verified-token cache memory (claims, digest key, LRU entry, revocation index)")
    for entries in sizes.cache_entries:
        per = token_cache_bytes(entries)
        print(f"  {entries:7d} entries: {per * entries / 2**20:7.1f} MiB  ({per:.0f} B each)")
    print("Backend API calls per person per hour (steady workload, simulated hour)")
    for webhooks in (False, True):
        per_person = asyncio.run(clerk_calls_per_person_hour(sizes.people, webhooks=webhooks))
        total = sum(per_person.values())
        label = "with webhooks   " if webhooks else "without webhooks"
        detail = ", ".join(f"{k} {v:.1f}" for k, v in per_person.items())
        for name, limit in (("production", 360_000), ("development", 36_000)):
            people = limit / total
            print(
                f"  {label} {total:6.1f} calls/person/h ({detail}); a {name} instance's "
                f"limit ({limit // 3600 * 10} / 10 s) is reached at {people:8.0f} people"
            )


# --- servers: people and open WebSockets ----------------------------------------------------


def plain_args(token: str) -> list[str]:
    # The extension without configure_server only raises the socket limits: the baseline has
    # the same ZMQ and open-file limits as the Clerk server.
    return [
        f"--IdentityProvider.token={token}",
        "--ServerApp.jpserver_extensions={'jupyter_clerk': True}",
        "--ClerkApp.configure_server=False",
    ]


def clerk_args() -> list[str]:
    return [
        f"--ClerkIdentityProvider.issuer={ISSUER}",
        "--ServerApp.jpserver_extensions={'jupyter_clerk': True}",
    ]


async def timed_requests(url: str, headers: list[dict[str, str]], requests: int, concurrency: int):
    client = AsyncHTTPClient(max_clients=concurrency)
    latencies: list[float] = []
    remaining = iter(range(requests))

    async def worker() -> None:
        for n in remaining:
            start = time.perf_counter()
            response = await client.fetch(url, headers=headers[n % len(headers)])
            assert response.code == 200, response.code
            latencies.append(time.perf_counter() - start)

    for n in range(min(len(headers), 1000)):  # warm-up: every person's token once
        await client.fetch(url, headers=headers[n])
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return requests / (time.perf_counter() - start), p99(latencies)


def run_people(opts) -> None:
    key = SigningKey.generate()
    plain_token = secrets.token_hex(16)
    env = clerk_environment(key)
    print("People: GET /api/contents, a distinct Clerk session per person (best of rounds)")
    for people in (10, 100, 1000):
        headers = [{"Authorization": f"Bearer {token_for(key, n)}"} for n in range(people)]
        results: dict[str, list[tuple[float, float]]] = {"plain": [], "clerk": []}
        for _ in range(opts.rounds):
            with server(plain_args(plain_token), {}) as (url, root):
                populate(root)
                plain = [{"Authorization": f"token {plain_token}"}]
                results["plain"].append(
                    asyncio.run(timed_requests(url + "api/contents", plain, opts.requests, 8))
                )
            with server(CLERK_PROVIDER_ONLY, env) as (url, root):
                populate(root)
                results["clerk"].append(
                    asyncio.run(timed_requests(url + "api/contents", headers, opts.requests, 8))
                )
        plain_rps = max(r[0] for r in results["plain"])
        clerk_rps = max(r[0] for r in results["clerk"])
        plain_p99 = min(r[1] for r in results["plain"])
        clerk_p99 = min(r[1] for r in results["clerk"])
        print(
            f"  {people:5d} people: {clerk_rps:6.0f} vs {plain_rps:6.0f} req/s "
            f"({clerk_rps / plain_rps:.2f}×, target ≥ 0.95×); p99 {clerk_p99 * 1000:.1f} vs "
            f"{plain_p99 * 1000:.1f} ms ({clerk_p99 / plain_p99:.2f}×, target ≤ 1.1×)"
        )


def server_pid(port_url: str) -> int:
    port = port_url.rsplit(":", 1)[1].strip("/")
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmd:
                if f"--ServerApp.port={port}".encode() in cmd.read():
                    return int(pid)
        except OSError:
            continue
    raise RuntimeError("server process not found")


def process_tree(pid: int) -> list[int]:
    """A process and its descendants (a server and its kernels)."""
    tree, index = [pid], 0
    while index < len(tree):
        try:
            for task in os.listdir(f"/proc/{tree[index]}/task"):
                with open(f"/proc/{tree[index]}/task/{task}/children") as children:
                    tree += [int(child) for child in children.read().split()]
        except OSError:  # ended meanwhile
            pass
        index += 1
    return tree


def tree_cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for root in pids:
        for pid in process_tree(root):
            with contextlib.suppress(OSError):  # ended meanwhile
                total += cpu_seconds(pid)
    return total


async def settle(pids: list[int], limit: float = 60.0) -> None:
    """Waits until the servers and their kernels are idle (under 5 % of a core over half a
    second): the kernels have answered every new connection and told every socket, so what
    follows measures sockets held, not sockets being opened."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = tree_cpu_seconds(pids)
        await asyncio.sleep(0.5)
        if tree_cpu_seconds(pids) - before < 0.025:
            return
    print(f"  (the servers were still busy after {limit:.0f} s; measuring anyway)")


@dataclass
class SocketServer:
    """One server under test, its kernels, the sockets it holds and what they cost."""

    url: str
    headers: dict[str, str]
    query: str
    kernels: list[str]
    held: list

    @classmethod
    async def start(cls, url: str, headers: dict[str, str], query: str, kernels: int):
        client = AsyncHTTPClient()
        ids = []
        for _ in range(kernels):
            response = await client.fetch(
                url + "api/kernels", method="POST", body="{}", headers=headers
            )
            ids.append(json.loads(response.body)["id"])
        return cls(url, headers, query, ids, [])

    async def open(self, count: int) -> float:
        """Opens `count` more kernel WebSockets, 25 at a time; returns the seconds taken."""
        start = time.perf_counter()
        while count > 0:
            batch = min(25, count)
            urls = [
                f"{'ws' + self.url.removeprefix('http')}api/kernels/"
                f"{self.kernels[(len(self.held) + i) % len(self.kernels)]}/channels?"
                f"session_id={uuid.uuid4().hex}&{self.query}"
                for i in range(batch)
            ]
            self.held += await asyncio.gather(
                *(
                    connect(u, additional_headers=self.headers, max_queue=None, open_timeout=120)
                    for u in urls
                )
            )
            count -= batch
        return time.perf_counter() - start

    async def kernel_info_answers(self, sample: int = 20) -> int:
        """How many of `sample` held sockets (spread over all) get their kernel_info reply:
        the sockets are held and working, not only open."""
        chosen = self.held[:: max(1, len(self.held) // sample)][:sample]
        answered = await asyncio.gather(*(kernel_info(ws) for ws in chosen))
        return sum(answered)

    async def stop(self) -> None:
        await asyncio.gather(*(ws.close() for ws in self.held))
        client = AsyncHTTPClient()
        for kernel in self.kernels:
            await client.fetch(
                self.url + f"api/kernels/{kernel}", method="DELETE", headers=self.headers
            )


async def kernel_info(ws, timeout: float = 120) -> bool:
    """One kernel_info round trip on a kernel WebSocket, past what the socket has queued."""
    msg_id = uuid.uuid4().hex
    header = {"msg_id": msg_id, "msg_type": "kernel_info_request", "session": msg_id}
    request = {"header": {**header, "username": "bench", "version": "5.3"}, "channel": "shell"}
    await ws.send(json.dumps({**request, "parent_header": {}, "metadata": {}, "content": {}}))
    try:
        async with asyncio.timeout(timeout):
            while True:
                message = json.loads(await ws.recv())
                parent = message.get("parent_header", {}).get("msg_id")
                if parent == msg_id and message.get("channel") == "shell":
                    return True
    except TimeoutError:
        return False


# sockets, RSS per socket (bytes), open seconds, p99 seconds, kernel_info answers of 20
Row = tuple[int, float, float, float, int]


async def socket_trial(servers: dict[str, SocketServer], steps: list[int], first: int, opts):
    """Per step and server: RSS/socket, open time, and a fresh request's p99 while they are
    open. The servers run at once and take turns (the one going first alternates with each
    step, starting with `first`), so a burst of load on the machine falls on both; RSS and p99
    are read once the machine has settled."""
    pids = {name: server_pid(s.url) for name, s in servers.items()}
    await settle(list(pids.values()))
    base_rss = {name: rss_kib(pid) for name, pid in pids.items()}
    rows: dict[str, list[Row]] = {name: [] for name in servers}
    try:
        for turn, step in enumerate(steps):
            order = list(servers.items())[:: 1 if (first + turn) % 2 else -1]
            seconds = {}
            for name, server_ in order:
                seconds[name] = await server_.open(step - len(server_.held))
                await settle(list(pids.values()))
            for name, server_ in order:
                _, latency = await timed_requests(
                    server_.url + "api/contents", [server_.headers], opts.requests, 8
                )
                rss = (rss_kib(pids[name]) - base_rss[name]) * 1024 / step
                rows[name].append((step, rss, seconds[name], latency, 0))
            for name, server_ in order:
                rows[name][-1] = (*rows[name][-1][:4], await server_.kernel_info_answers())
            await settle(list(pids.values()))
    finally:
        for server_ in servers.values():
            await server_.stop()
    return rows


def run_websockets(opts) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    steps = [int(s) for s in opts.sockets.split(",")]
    key = SigningKey.generate()
    plain_token = secrets.token_hex(16)
    clerk_token = key.sign({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, payload(1, org=False))
    # One person opens them all: their own limit is raised with the server's.
    limit = str(max(steps) + 50)
    env = {
        **clerk_environment(key),
        "CLERK_MAX_KERNEL_WEBSOCKETS": limit,
        "CLERK_MAX_KERNEL_WEBSOCKETS_PER_PERSON": limit,
    }

    async def run(plain_url: str, clerk_url: str, trial_steps: list[int], first: int):
        servers = {
            "plain": await SocketServer.start(
                plain_url,
                {"Authorization": f"token {plain_token}"},
                f"token={plain_token}",
                opts.kernels,
            ),
            "clerk": await SocketServer.start(
                clerk_url,
                {"Authorization": f"Bearer {clerk_token}"},
                f"token={clerk_token}",
                opts.kernels,
            ),
        }
        return await socket_trial(servers, trial_steps, first, opts)

    # A step's whole difference is a few MiB and milliseconds, within one run's noise: each is
    # measured in several pairs of fresh servers (`trials` for small steps, `large_trials` for
    # the others), whichever opens first alternating, and each figure is the median.
    trials: list[dict[str, list[Row]]] = []
    for trial in range(max(opts.trials, opts.large_trials)):
        trial_steps = [
            s for s in steps if trial < (opts.trials if s <= SMALL_STEP else opts.large_trials)
        ]
        if not trial_steps:
            break
        with (
            server(plain_args(plain_token), env) as (plain_url, _plain_root),
            server(clerk_args(), env) as (clerk_url, _clerk_root),
        ):
            trials.append(asyncio.run(run(plain_url, clerk_url, trial_steps, trial)))
    print(
        f"Open kernel WebSockets over {opts.kernels} kernels (Clerk vs plain, same limits; "
        f"median of {opts.trials} pairs of fresh servers for steps of ≤ {SMALL_STEP} sockets, "
        f"{opts.large_trials} for larger ones)"
    )
    for step in steps:
        pairs = [
            (clerk, plain)
            for t in trials
            for clerk, plain in zip(t["clerk"], t["plain"], strict=True)
            if clerk[0] == step
        ]
        c_rss, c_open, c_p99 = (statistics.median(c[i] for c, _ in pairs) for i in (1, 2, 3))
        p_rss, p_open, p_p99 = (statistics.median(p[i] for _, p in pairs) for i in (1, 2, 3))
        answered = min(min(c[4], p[4]) for c, p in pairs)
        ratios = [statistics.median(c[i] / p[i] for c, p in pairs) for i in (1, 2, 3)]
        print(
            f"  {step:5d} sockets: RSS/socket {c_rss / 1024:6.1f} vs {p_rss / 1024:6.1f} KiB "
            f"({ratios[0]:.2f}×); open {c_open:5.2f} vs {p_open:5.2f} s "
            f"({ratios[1]:.2f}×); request p99 {c_p99 * 1000:6.1f} vs {p_p99 * 1000:6.1f} ms "
            f"({ratios[2]:.2f}×, target ≤ 1.1×); ≈{2**30 / c_rss:,.0f} sockets per GiB; "
            f"kernel_info answered on {answered} of 20 sampled sockets (fewest of any run)"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["revocation", "people", "websockets"])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sockets", default="100,500,1000")
    parser.add_argument("--kernels", type=int, default=4)
    parser.add_argument("--trials", type=int, default=7)
    parser.add_argument("--large-trials", type=int, default=3)
    opts = parser.parse_args()
    if opts.only in (None, "revocation"):
        run_in_process()
    if opts.only in (None, "people"):
        run_people(opts)
    if opts.only in (None, "websockets"):
        run_websockets(opts)


if __name__ == "__main__":
    main()
