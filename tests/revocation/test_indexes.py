"""Revocation touches only the entries and sockets of the session, user or organization it
concerns: the indexes behind that must never miss an entry (a missed one is access kept)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from jupyter_clerk.auth.claims import Organization, SessionClaims
from jupyter_clerk.cache import ExpiringLRU
from jupyter_clerk.clerk_api.client_tokens import ClientTokenResolver, _Entry
from jupyter_clerk.clerk_api.models import Session
from jupyter_clerk.revocation.denylist import Revocation, claims_tags
from jupyter_clerk.revocation.open_sockets import CLOSE_CODE, OpenSockets, SocketOwner


def claims(session: str, user: str = "user_a", org: str | None = None) -> SessionClaims:
    organization = Organization(id=org, slug="s", role="org:member", permissions=frozenset())
    now = time.time()
    return SessionClaims(
        user_id=user,
        session_id=session,
        issuer="https://clerk.example",
        expires_at=now + 60,
        issued_at=now,
        not_before=None,
        authorized_party=None,
        status="active",
        organization=organization if org else None,
        features=(),
        plans=(),
        actor=None,
        version=2,
    )


@dataclass(eq=False)
class FakeSocket:
    closed_with: tuple[int, str] | None = None

    def close(self, code: int, reason: str) -> None:
        self.closed_with = (code, reason)


def test_discarding_a_tag_drops_exactly_its_entries():
    cache: ExpiringLRU[str, SessionClaims] = ExpiringLRU(100, time.monotonic, claims_tags)
    cache.put("t1", claims("sess_1"), time.monotonic() + 60)
    cache.put("t2", claims("sess_1"), time.monotonic() + 60)
    cache.put("t3", claims("sess_2"), time.monotonic() + 60)
    assert cache.discard_tagged(("session", "sess_1")) == 2
    assert cache.get("t3") is not None and len(cache) == 1


def test_a_key_reused_for_another_session_is_indexed_under_the_new_one_only():
    cache: ExpiringLRU[str, SessionClaims] = ExpiringLRU(100, time.monotonic, claims_tags)
    cache.put("t", claims("sess_old"), time.monotonic() + 60)
    cache.put("t", claims("sess_new"), time.monotonic() + 60)
    assert cache.discard_tagged(("session", "sess_old")) == 0
    assert cache.discard_tagged(("session", "sess_new")) == 1


def test_evicted_and_expired_entries_leave_the_index():
    now = [0.0]
    cache: ExpiringLRU[str, SessionClaims] = ExpiringLRU(10, lambda: now[0], claims_tags)
    for n in range(1000):
        cache.put(f"t{n}", claims(f"sess_{n}"), 5.0)
    now[0] = 10.0
    for n in range(990, 1000):
        assert cache.get(f"t{n}") is None
    assert cache._index == {}


def test_an_index_added_later_covers_entries_already_cached():
    cache: ExpiringLRU[str, SessionClaims] = ExpiringLRU(100, time.monotonic)
    cache.put("t", claims("sess_1", user="user_b"), time.monotonic() + 60)
    cache.index_by(claims_tags)
    assert cache.discard_tagged(("user", "user_b")) == 1


def test_ending_a_session_looks_only_at_that_sessions_tokens():
    looked_at = []

    def counting(value: SessionClaims):
        looked_at.append(value.session_id)
        return claims_tags(value)

    tokens: ExpiringLRU[str, SessionClaims] = ExpiringLRU(20_000, time.monotonic)
    for n in range(10_000):
        tokens.put(f"t{n}", claims(f"sess_{n}", user=f"user_{n}"), time.monotonic() + 60)
    revocation = Revocation(tokens, None, None, OpenSockets())
    tokens.index_by(counting)
    looked_at.clear()
    revocation.session_ended("sess_42", "revoked")
    assert looked_at == ["sess_42"] and len(tokens) == 9_999


def test_deleted_organization_drops_client_token_sessions_active_in_it():
    resolver = ClientTokenResolver(lambda token: None)  # type: ignore[arg-type,return-value]
    session = Session(
        id="sess_c",
        user_id="user_c",
        client_id="client_c",
        status="active",
        last_active_organization_id="org_x",
        last_active_at=0,
        expire_at=int((time.time() + 3600) * 1000),
    )
    resolver._store(b"digest", _Entry(time.monotonic() + 60, session, None))
    tokens: ExpiringLRU[bytes, SessionClaims] = ExpiringLRU(10, time.monotonic)
    Revocation(tokens, resolver, None, OpenSockets()).organization_deleted("org_x")
    assert len(resolver) == 0


def test_closing_a_session_closes_only_its_sockets_and_each_once():
    sockets = OpenSockets()
    mine = [FakeSocket(), FakeSocket()]
    other = FakeSocket()
    for s in mine:
        sockets.track(s, SocketOwner("user_a", "sess_1", "org_x"))
    sockets.track(other, SocketOwner("user_a", "sess_2", "org_x"))
    assert sockets.close_tagged(("session", "sess_1"), "gone") == 2
    assert all(s.closed_with == (CLOSE_CODE, "gone") for s in mine)
    assert other.closed_with is None
    assert sockets.close_tagged(("user", "user_a"), "deleted") == 1  # not the closed ones again
    assert sockets.session_ids() == []


def test_membership_removal_closes_that_users_sockets_in_that_organization_only():
    sockets = OpenSockets()
    in_org, elsewhere, someone_else = FakeSocket(), FakeSocket(), FakeSocket()
    sockets.track(in_org, SocketOwner("user_a", "sess_1", "org_x"))
    sockets.track(elsewhere, SocketOwner("user_a", "sess_1", "org_y"))
    sockets.track(someone_else, SocketOwner("user_b", "sess_2", "org_x"))
    revocation = Revocation(ExpiringLRU(10, time.monotonic), None, None, sockets)
    assert revocation.membership_removed("user_a", "org_x") == 1
    assert in_org.closed_with is not None
    assert elsewhere.closed_with is None and someone_else.closed_with is None


def test_a_socket_closed_before_its_upgrade_is_remembered_with_the_reason_and_forgettable():
    """tornado ignores `close` before the upgrade: forgetting it silently lost the revocation."""
    sockets = OpenSockets()
    upgrading, refused = FakeSocket(), FakeSocket()
    sockets.track(upgrading, SocketOwner("user_a", "sess_1", "org_x"))
    sockets.track(refused, SocketOwner("user_a", "sess_2", "org_x"))
    assert sockets.close_tagged(("session", "sess_1"), "Clerk session revoked") == 1
    assert sockets.closed_for(upgrading) == "Clerk session revoked"
    assert sockets.closed_for(refused) is None
    assert sockets.forget(refused) and not sockets.forget(refused)
    assert (len(sockets), sockets.session_ids()) == (0, [])
