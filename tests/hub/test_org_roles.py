"""An organization admin's Hub role reaches that organization's servers and nothing else,
checked with JupyterHub's own scope machinery and database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from jupyterhub import orm, scopes

from jupyter_clerk.hub.names import server_name
from jupyter_clerk.hub.org_roles import admin_role
from tests.hub.stack import ADA, ENGINES, PARTNERS, VERA


@pytest.fixture
def db() -> Iterator[object]:
    """Vera and Ada are both in Analytical Engines; Ada also in Difference Partners."""
    session = orm.new_session_factory("sqlite://")()
    users = {name: orm.User(name=name) for name in (ADA, VERA)}
    engines, partners = orm.Group(name=ENGINES), orm.Group(name=PARTNERS)
    engines.users = [users[ADA], users[VERA]]
    partners.users = [users[ADA]]
    session.add_all([*users.values(), engines, partners])
    session.commit()
    yield session
    session.close()


def can(scope: str, granted: list[str], db: object) -> bool:
    return scopes.has_scope(scope, scopes.expand_scopes(set(granted)), db=db)


def test_a_group_filter_would_reach_members_personal_and_other_servers(db) -> None:
    # Why the role names servers one by one: the obvious group filter is too wide.
    naive = [f"servers!group={ENGINES}"]
    assert can(f"servers!server={VERA}/", naive, db)  # Vera's personal server
    assert can(f"servers!server={ADA}/{server_name(PARTNERS)}", naive, db)  # another org


def test_the_admin_role_reaches_only_that_organizations_servers(db) -> None:
    role = admin_role(ENGINES, [ADA, VERA])["scopes"]
    engines = server_name(ENGINES)
    assert can(f"servers!server={VERA}/{engines}", role, db)
    assert can(f"access:servers!server={VERA}/{engines}", role, db)
    assert not can(f"servers!server={VERA}/", role, db)
    assert not can(f"access:servers!server={VERA}/", role, db)
    assert not can(f"servers!server={ADA}/{server_name(PARTNERS)}", role, db)
    assert not can(f"admin:users!user={VERA}", role, db)
    assert not can(f"tokens!user={VERA}", role, db)


def test_a_member_who_left_drops_out_of_the_role(db) -> None:
    role = admin_role(ENGINES, [ADA])["scopes"]
    assert not can(f"servers!server={VERA}/{server_name(ENGINES)}", role, db)
