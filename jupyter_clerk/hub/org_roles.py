"""An organization's admins manage that organization's servers, and nothing else.

JupyterHub's scope filters cannot express "org X's servers": `servers!group=org_X` also
reaches the members' personal servers and their servers in other organizations. So each
organization gets one Hub role whose scopes name every member's server of that organization
one by one (`servers!server=<member>/<org server>`), rewritten whenever a member signs in,
refreshes or leaves, and granted (through `manage_roles`) to the members whose Clerk role is
`org:admin`. A member's personal server and other organizations' servers are never named.

Clerk's webhooks change these at once (`revocations`), not at the person's next refresh: a
member who leaves is taken out of the group, the role and its scopes; a demoted admin loses
the role; a deleted organization loses both. The Hub computes scopes from the database at
every request, so the change holds from the next request on.
"""

from __future__ import annotations

from collections.abc import Iterable

from jupyterhub import orm, roles

from .names import server_name

ADMIN_ROLE_PREFIX = "clerk-org-admin-"
ADMIN_CLERK_ROLE = "org:admin"
# What an organization admin may do to one member's server of that organization.
_SERVER_SCOPES = ("servers", "access:servers")


def admin_role_name(organization_id: str) -> str:
    return ADMIN_ROLE_PREFIX + server_name(organization_id)


def admin_role(organization_id: str, members: Iterable[str]) -> dict[str, object]:
    """The role dict (JupyterHub's `load_roles` format) for one organization's admins."""
    name = server_name(organization_id)
    scopes = []
    for member in sorted(set(members)):
        scopes.extend(f"{scope}!server={member}/{name}" for scope in _SERVER_SCOPES)
    return {
        "name": admin_role_name(organization_id),
        "description": f"Admins of Clerk organization {organization_id}: its members' servers",
        "scopes": scopes,
    }


def group_members(db: object, organization_id: str) -> set[str]:
    """The Hub users in the organization's group (the group is the org id)."""
    group = orm.Group.find(db, organization_id)
    return {user.name for user in group.users} if group is not None else set()


def admin_role_exists(db: object, organization_id: str) -> bool:
    return orm.Role.find(db, admin_role_name(organization_id)) is not None


def rewrite_admin_role(db: object, organization_id: str, members: set[str]) -> None:
    """Store the organization's admin role with exactly these members' servers."""
    role = admin_role(organization_id, members)
    role["managed_by_auth"] = True
    roles.create_role(db, role, commit=True, reset_to_defaults=True)


def set_admin(db: object, user: orm.User, organization_id: str, admin: bool) -> None:
    """Grant or strip the organization's admin role, as Clerk's current role says."""
    name = admin_role_name(organization_id)
    role = orm.Role.find(db, name)
    if admin:
        if role is None:
            rewrite_admin_role(db, organization_id, group_members(db, organization_id))
        roles.grant_role(db, entity=user, rolename=name, managed=True)
    elif role is not None and role in user.roles:
        roles.strip_role(db, entity=user, rolename=name)


def leave_organization(db: object, user: orm.User, organization_id: str) -> None:
    """Out of the organization's group and admin role, and no longer named in its scopes."""
    group = orm.Group.find(db, organization_id)
    if group is not None and user in group.users:
        group.users.remove(user)
        db.commit()
    set_admin(db, user, organization_id, admin=False)
    if admin_role_exists(db, organization_id):
        rewrite_admin_role(db, organization_id, group_members(db, organization_id))


def delete_organization(db: object, organization_id: str) -> None:
    """The organization is gone: its admin role and its group with it."""
    for found in (
        orm.Role.find(db, admin_role_name(organization_id)),
        orm.Group.find(db, organization_id),
    ):
        if found is not None:
            db.delete(found)
    db.commit()
