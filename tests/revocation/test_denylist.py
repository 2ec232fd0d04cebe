"""What a withdrawal refuses: whole sessions and users, or an organization's old tokens."""

from __future__ import annotations

import time

from jupyter_clerk.cache import ExpiringLRU
from jupyter_clerk.revocation.denylist import Revocation
from jupyter_clerk.revocation.open_sockets import OpenSockets
from jupyter_clerk.revocation.webhooks import apply_event

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
