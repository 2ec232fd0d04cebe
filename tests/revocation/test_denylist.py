"""What a withdrawal refuses: whole sessions and users, or an organization's old tokens."""

from __future__ import annotations

import asyncio
import time

from jupyter_clerk.cache import ExpiringLRU
from jupyter_clerk.revocation.denylist import Revocation
from jupyter_clerk.revocation.open_sockets import OpenSockets, SocketOwner
from jupyter_clerk.revocation.webhooks import apply_event
from tests.revocation.test_indexes import FakeSocket

ADA, SESSION, ORG = "user_2aAda", "sess_2aAda", "org_2aAcme"


def revocation() -> Revocation:
    return Revocation(ExpiringLRU(10, time.time), None, None, OpenSockets())


def test_deleted_organization_refuses_its_tokens_but_not_others():
    rev = revocation()
    before = time.time() - 1
    rev.organization_deleted(ORG)
    assert rev.refuses(ADA, SESSION, ORG, before)
    assert not rev.refuses(ADA, SESSION, "org_2aOther", before)
    assert not rev.refuses(ADA, SESSION, None, before)


async def test_changed_membership_refuses_only_tokens_issued_before_the_change():
    rev = revocation()
    before = time.time() - 1
    await rev.membership_changed(ADA, ORG)
    assert rev.refuses(ADA, SESSION, ORG, before)
    assert not rev.refuses(ADA, SESSION, ORG, time.time() + 1)
    assert not rev.refuses("user_2aGrace", "sess_2aGrace", ORG, before)


def test_ended_session_and_deleted_user_are_refused_outright():
    rev = revocation()
    rev.session_ended(SESSION, "revoked")
    assert rev.refuses(ADA, SESSION, None, time.time() + 10)
    assert not rev.refuses(ADA, "sess_2aOther", None, time.time())


async def test_a_new_membership_webhook_makes_the_next_lookup_fresh_without_refusing_anything():
    forgotten: list[str] = []

    class Memberships:
        def invalidate_user(self, user_id: str) -> None:
            forgotten.append(user_id)

    rev = Revocation(ExpiringLRU(10, time.time), None, Memberships(), OpenSockets())
    event = {
        "type": "organizationMembership.created",
        "data": {"organization": {"id": ORG}, "public_user_data": {"user_id": ADA}},
    }
    assert await apply_event(rev, event, None) == "forgot the cached memberships"
    assert forgotten == [ADA]
    assert not rev.refuses(ADA, SESSION, ORG, time.time() - 1)


async def test_a_socket_opening_after_a_revocation_is_told_what_its_open_sockets_were_told():
    """The check at the end of an upgrade (revocation/upgrades.py) closes with the words of
    the revocation that closed the owner's open sockets; a session's status is not
    remembered, so every ended session reads "Clerk session ended"."""
    before = time.time() - 1
    revocations = {
        "user": lambda rev: rev.user_deleted(ADA, None),
        "organization": lambda rev: rev.organization_deleted(ORG),
        "member": lambda rev: rev.membership_lost(ADA, ORG),
    }
    for kind, revoke in revocations.items():
        rev = revocation()
        rev.sockets.track(open_socket := FakeSocket(), SocketOwner(ADA, SESSION, ORG))
        if asyncio.iscoroutine(closed := revoke(rev)):
            await closed
        assert open_socket.closed_with is not None, kind
        assert rev.withdrawal(ADA, SESSION, ORG, before) == open_socket.closed_with[1], kind
    rev = revocation()
    rev.session_ended(SESSION, "revoked")
    assert rev.withdrawal(ADA, SESSION, None, before) == "Clerk session ended"
    assert revocation().withdrawal(ADA, SESSION, ORG, before) is None
