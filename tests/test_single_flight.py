"""One load per key however many ask: a burst for one person is one Backend API call, and a
caller that gives up does not take the load away from the others."""

from __future__ import annotations

import asyncio
import contextlib

from jupyter_clerk.cache import SingleFlight


def test_callers_of_one_key_share_one_load_and_a_cancelled_caller_leaves_it_running():
    async def scenario() -> tuple[int, list[str], bool]:
        flight: SingleFlight[str, str] = SingleFlight()
        release = asyncio.Event()
        calls = 0

        async def load() -> str:
            nonlocal calls
            calls += 1
            await release.wait()
            return "profile"

        waiters = [asyncio.ensure_future(flight.run("user_a", load)) for _ in range(5)]
        await asyncio.sleep(0)
        waiters[0].cancel()
        await asyncio.sleep(0)
        release.set()
        results = await asyncio.gather(*waiters[1:])
        return calls, results, "user_a" in flight

    calls, results, still_loading = asyncio.run(scenario())
    assert calls == 1
    assert results == ["profile"] * 4
    assert not still_loading


def test_a_failed_load_is_not_kept_and_the_next_caller_loads_again():
    async def scenario() -> int:
        flight: SingleFlight[str, str] = SingleFlight()
        calls = 0

        async def load() -> str:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise OSError("Clerk unreachable")
            return "profile"

        with contextlib.suppress(OSError):
            await flight.run("user_a", load)
        assert await flight.run("user_a", load) == "profile"
        return calls

    assert asyncio.run(scenario()) == 2
