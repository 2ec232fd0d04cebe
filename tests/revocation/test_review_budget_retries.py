"""Review of issue 15: the revalidation budget counts re-checks, not requests to Clerk.

`SessionRevalidator._spend_budget` takes one token per session re-check, but each re-check is
a `BackendAPI` call that retries 5xx and timeouts (`max_retries`, 2 by default, as the
provider builds it) and waits out short 429s: when Clerk is struggling, the round sends up to
three times its share of Clerk's rate limit, exactly when that share matters most.
"""

from __future__ import annotations

import asyncio

from jupyter_clerk.clerk_api.client import BackendAPI
from jupyter_clerk.revocation.open_sockets import OpenSockets, SessionRevalidator, SocketOwner
from tests.revocation.test_indexes import FakeSocket

SESSIONS = r"/v1/sessions/"
PER_SECOND = 5
COUNT = 20


async def test_a_round_against_a_failing_clerk_stays_within_its_request_budget(clerk_instance):
    """Fails today: 20 re-checks within a 5/s budget (burst 5) send 60 requests, where the
    budget allows 5 + 5 × (fake seconds waited) = 20."""
    now = [0.0]

    async def sleep(seconds: float) -> None:  # budget waits pass instantly, counted
        now[0] += seconds
        await asyncio.sleep(0)

    api = BackendAPI(clerk_instance.api_url, clerk_instance.secret_key, backoff=0.001)
    sockets, held = OpenSockets(), []
    for n in range(COUNT):
        held.append(FakeSocket())
        sockets.track(held[-1], SocketOwner(f"user_2aReview{n}", f"sess_2aReview{n}", None))
    clerk_instance.faults.fail(503, times=10 * COUNT, path=SESSIONS)
    revalidator = SessionRevalidator(
        sockets,
        api.get_session,
        300,
        calls_per_second=PER_SECOND,
        concurrency=4,
        clock=lambda: now[0],
        sleep=sleep,
    )
    assert await revalidator.check_now() == 0  # an outage closes nothing: sound
    assert all(socket.closed_with is None for socket in held)
    allowed = PER_SECOND + PER_SECOND * now[0]
    assert clerk_instance.faults.calls_to(SESSIONS) <= allowed + 1e-9
