"""An organization admin's Hub role reaches that organization's servers and nothing else,
checked with JupyterHub's own scope machinery and database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from jupyterhub import orm, scopes

from jupyter_clerk.hub.names import server_name
from jupyter_clerk.hub.org_roles import (
    admin_role,
    admin_role_name,
    delete_organization,
    group_members,
    leave_organization,
    rewrite_admin_role,
    set_admin,
)
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


def role_of(db: object, org: str) -> orm.Role | None:
    return orm.Role.find(db, admin_role_name(org))


def admin_db(db: object) -> object:
    """Ada is the admin of Analytical Engines, whose role names Ada's and Vera's servers."""
    rewrite_admin_role(db, ENGINES, {ADA, VERA})
    set_admin(db, orm.User.find(db, ADA), ENGINES, admin=True)
    return db


def test_a_member_who_leaves_is_out_of_the_group_the_role_and_its_scopes_at_once(db) -> None:
    admin_db(db)
    ada, vera = orm.User.find(db, ADA), orm.User.find(db, VERA)
    leave_organization(db, vera, ENGINES)
    assert group_members(db, ENGINES) == {ADA}
    assert not can(f"servers!server={VERA}/{server_name(ENGINES)}", role_of(db, ENGINES).scopes, db)
    leave_organization(db, ada, ENGINES)  # the admin herself
    assert role_of(db, ENGINES) not in ada.roles
    assert not can(f"servers!server={ADA}/{server_name(ENGINES)}", role_of(db, ENGINES).scopes, db)
    assert PARTNERS in {g.name for g in ada.groups}, "her other organization is untouched"


def test_a_demoted_admin_loses_the_role_and_a_promoted_member_gets_it(db) -> None:
    admin_db(db)
    ada, vera = orm.User.find(db, ADA), orm.User.find(db, VERA)
    set_admin(db, ada, ENGINES, admin=False)
    assert role_of(db, ENGINES) not in ada.roles
    assert not scopes.has_scope(
        f"servers!server={VERA}/{server_name(ENGINES)}", scopes.get_scopes_for(ada), db=db
    )
    set_admin(db, vera, ENGINES, admin=True)
    assert scopes.has_scope(
        f"servers!server={ADA}/{server_name(ENGINES)}", scopes.get_scopes_for(vera), db=db
    )


def test_a_deleted_organization_loses_its_role_and_group_and_no_other(db) -> None:
    admin_db(db)
    rewrite_admin_role(db, PARTNERS, {ADA})
    delete_organization(db, ENGINES)
    assert role_of(db, ENGINES) is None and orm.Group.find(db, ENGINES) is None
    assert role_of(db, PARTNERS) is not None and orm.Group.find(db, PARTNERS) is not None
    assert orm.User.find(db, ADA) is not None
