"""Which session a client token speaks for, and the bound on calls for unknown tokens."""

from __future__ import annotations

import pytest

from jupyter_clerk.clerk_api.client_tokens import TokenBucket, choose_session
from jupyter_clerk.clerk_api.models import Client, Session
from jupyter_clerk.errors import TokenError


def session(sid: str, user: str, status: str = "active", last_active_at: int = 0) -> Session:
    return Session(
        id=f"sess_{sid}",
        user_id=f"user_{user}",
        client_id="client_1",
        status=status,
        last_active_organization_id=None,
        last_active_at=last_active_at,
        expire_at=2**40,
    )


def client(*sessions: Session, last: str | None) -> Client:
    return Client("client_1", sessions, f"sess_{last}" if last else None)


def test_last_active_session_wins_over_the_first_one():
    chosen = choose_session(client(session("a", "grace"), session("b", "ada"), last="b"))
    assert chosen.user_id == "user_ada"


def test_without_a_live_last_active_session_the_most_recently_active_one_is_chosen():
    sessions = (
        session("a", "grace", last_active_at=1),
        session("b", "ada", last_active_at=3),
        session("c", "linus", status="revoked", last_active_at=9),
        session("d", "vera", last_active_at=2),
    )
    assert choose_session(client(*sessions, last="c")).user_id == "user_ada"
    assert choose_session(client(*sessions, last=None)).user_id == "user_ada"
    assert choose_session(client(*sessions, last="gone")).user_id == "user_ada"


def test_pending_last_active_session_is_refused_rather_than_passed_over():
    sessions = (session("a", "grace"), session("b", "ada", status="pending"))
    with pytest.raises(TokenError) as info:
        choose_session(client(*sessions, last="b"))
    assert info.value.reason == "session-pending"


@pytest.mark.parametrize(
    "status", ["pending", "ended", "revoked", "expired", "removed", "abandoned", "replaced"]
)
def test_only_active_sessions_are_fallbacks(status):
    with pytest.raises(TokenError):
        choose_session(client(session("a", "ada", status=status), last=None))


def test_token_bucket_allows_a_burst_then_refills_at_the_rate():
    now = [0.0]
    bucket = TokenBucket(rate=2.0, burst=3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(0.5)
    now[0] += 0.5
    assert bucket.take() == 0.0
    assert bucket.take() > 0
