"""One load per key however many ask: a burst for one person is one Backend API call, and a
caller that gives up does not take the load away from the others."""

from __future__ import annotations

import asyncio
import contextlib

from jupyter_clerk.cache import Current, SingleFlight


def test_callers_of_one_key_share_one_load_and_a_cancelled_caller_leaves_it_running():
    async def scenario() -> tuple[int, list[str], bool]:
        flight: SingleFlight[str, str] = SingleFlight()
        release = asyncio.Event()
        calls = 0

        async def load(current: Current) -> str:
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

        async def load(current: Current) -> str:
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


def test_after_forget_a_new_load_starts_and_the_old_one_is_told_it_is_no_longer_current():
    async def scenario() -> tuple[list[tuple[str, bool]], bool]:
        flight: SingleFlight[str, tuple[str, bool]] = SingleFlight()
        release_old = asyncio.Event()

        async def old(current: Current) -> tuple[str, bool]:
            await release_old.wait()
            return "before the webhook", current()

        async def new(current: Current) -> tuple[str, bool]:
            await asyncio.sleep(0)
            return "after the webhook", current()

        waiting = asyncio.ensure_future(flight.run("user_a", old))
        await asyncio.sleep(0)
        flight.forget("user_a")  # before the old load has even begun to run
        later = flight.start("user_a", new)
        release_old.set()
        answers = [await waiting, await later]
        return answers, "user_a" in flight

    answers, still_loading = asyncio.run(scenario())
    assert answers == [("before the webhook", False), ("after the webhook", True)]
    assert not still_loading
