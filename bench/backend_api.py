"""Backend API calls and cache memory under load, against the local instance over loopback.

1. 200 concurrent first requests for one user and organization: how many Backend API calls
   they cost (target: 1 per kind — one clients/verify, one memberships lookup).
2. 1 000 distinct client tokens through a cache bounded at 500 entries: the cache stays
   within its bound, and its memory is printed.

    .venv/bin/python -m bench.backend_api
"""

from __future__ import annotations

import asyncio
import tracemalloc

from jupyter_clerk.clerk_api.client import BackendAPI
from jupyter_clerk.clerk_api.client_tokens import ClientTokenResolver
from jupyter_clerk.clerk_api.memberships import MembershipCache
from jupyter_clerk.devinstance import DevInstance

ADA = "user_2aDemoAdaLovelace"
ENGINES = "org_2aDemoAnalyticalEngines"
CONCURRENT = 200
DISTINCT_TOKENS = 1_000
CACHE_BOUND = 500


async def concurrent_first_requests(instance: DevInstance, api: BackendAPI) -> None:
    session = instance.create_session(ADA, ENGINES)
    token = instance.client_token(session.client_id)
    resolver = ClientTokenResolver(api.verify_client)
    memberships = MembershipCache(api.user_memberships)

    async def first_request() -> str | None:
        chosen = await resolver.resolve(token)
        membership = await memberships.membership(chosen.user_id, ENGINES)
        return membership.role if membership else None

    instance.faults.calls.clear()
    roles = await asyncio.gather(*(first_request() for _ in range(CONCURRENT)))
    assert set(roles) == {"org:admin"}
    verify_calls = instance.faults.calls_to("/v1/clients/verify")
    membership_calls = instance.faults.calls_to("organization_memberships")
    print(f"{CONCURRENT} concurrent first requests (same client token, user and org):")
    print(f"  POST /v1/clients/verify calls:               {verify_calls}   (target 1)")
    print(f"  GET  /v1/users/{{id}}/organization_memberships: {membership_calls}   (target 1)")


async def many_distinct_tokens(instance: DevInstance, api: BackendAPI) -> None:
    tokens = [
        instance.client_token(instance.create_session(ADA).client_id)
        for _ in range(DISTINCT_TOKENS)
    ]
    resolver = ClientTokenResolver(
        api.verify_client, max_entries=CACHE_BOUND, verify_rate=1e6, verify_burst=1e6
    )
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for start in range(0, DISTINCT_TOKENS, 50):
        await asyncio.gather(*(resolver.resolve(t) for t in tokens[start : start + 50]))
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    print(f"{DISTINCT_TOKENS} distinct client tokens, cache bound {CACHE_BOUND}:")
    print(f"  entries kept: {len(resolver)}   (bound {CACHE_BOUND})")
    print(f"  memory grown while resolving: {grown / 1024:.0f} KiB")
    print(f"  per kept entry: {grown / max(1, len(resolver)):.0f} bytes")


async def main() -> None:
    instance = DevInstance()
    await instance.start()
    try:
        api = BackendAPI(instance.api_url, instance.secret_key)
        await concurrent_first_requests(instance, api)
        await many_distinct_tokens(instance, api)
    finally:
        await instance.stop()


if __name__ == "__main__":
    asyncio.run(main())
