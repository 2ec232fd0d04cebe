"""Sessions and clients: Clerk's statuses, multi-session clients, active organizations."""

import pytest

from jupyter_clerk.devinstance import load_data
from jupyter_clerk.devinstance.errors import ClerkAPIError
from jupyter_clerk.devinstance.ids import is_clerk_id
from jupyter_clerk.devinstance.state import SessionStore, now_ms

from .helpers import ADA, ENGINES, GRACE, LINUS, PARTNERS


@pytest.fixture
def store() -> SessionStore:
    return SessionStore(load_data())


def test_sign_in_creates_an_active_session_on_a_new_client(store: SessionStore) -> None:
    session = store.sign_in(ADA, organization_id=ENGINES)
    assert is_clerk_id(session.id, "sess") and is_clerk_id(session.client_id, "client")
    assert session.status == "active" and session.last_active_organization_id == ENGINES
    assert session.created_at <= session.last_active_at < session.expire_at < session.abandon_at
    client = store.client(session.client_id)
    assert client.session_ids == [session.id] and client.last_active_session_id == session.id


def test_multi_session_client_tracks_the_last_active_session(store: SessionStore) -> None:
    ada = store.sign_in(ADA)
    grace = store.sign_in(GRACE, client_id=ada.client_id)
    client = store.client(ada.client_id)
    assert client.last_active_session_id == grace.id
    store.set_active_organization(ada.id, PARTNERS)
    assert client.last_active_session_id == ada.id
    store.remove(ada.id)
    assert client.last_active_session_id == grace.id
    store.end(grace.id)
    assert client.last_active_session_id is None
    assert [s.status for s in store.sessions_of(client)] == ["removed", "ended"]


def test_active_organization_must_be_a_membership(store: SessionStore) -> None:
    session = store.sign_in(GRACE)
    with pytest.raises(ClerkAPIError) as info:
        store.set_active_organization(session.id, ENGINES)
    assert info.value.status == 403
    with pytest.raises(ClerkAPIError) as info:
        store.sign_in(LINUS, organization_id=ENGINES)
    assert info.value.status == 403
    assert store.set_active_organization(session.id, PARTNERS).last_active_organization_id == (
        PARTNERS
    )
    assert store.set_active_organization(session.id, None).last_active_organization_id is None


def test_signed_out_sessions_cannot_change_organization(store: SessionStore) -> None:
    session = store.sign_in(ADA)
    store.revoke(session.id)
    with pytest.raises(ClerkAPIError) as info:
        store.set_active_organization(session.id, ENGINES)
    assert info.value.code == "session_not_active"


def test_a_finished_session_keeps_its_first_final_status(store: SessionStore) -> None:
    session = store.sign_in(ADA)
    store.revoke(session.id)
    store.end(session.id)
    assert store.session(session.id).status == "revoked"


def test_sessions_past_expire_at_report_expired(store: SessionStore) -> None:
    session = store.sign_in(ADA)
    session.expire_at = now_ms() - 1
    assert store.session(session.id).status == "expired"
    assert store.last_active_session(store.client(session.client_id)) is None


def test_end_client_signs_out_every_session(store: SessionStore) -> None:
    ada = store.sign_in(ADA)
    store.sign_in(GRACE, client_id=ada.client_id)
    ended = store.end_client(ada.client_id)
    assert [s.status for s in ended] == ["ended", "ended"]


@pytest.mark.parametrize("bad", ["", "sess_", "sess_../x", "client_x", "SESS_x"])
def test_malformed_or_unknown_session_ids_are_not_found(store: SessionStore, bad: str) -> None:
    with pytest.raises(ClerkAPIError) as info:
        store.session(bad)
    assert info.value.status == 404


def test_unknown_user_cannot_sign_in(store: SessionStore) -> None:
    with pytest.raises(ClerkAPIError) as info:
        store.sign_in("user_nobody")
    assert info.value.status == 404
