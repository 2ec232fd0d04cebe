"""The instance's directory: users, organizations, roles and memberships, read from JSON.

The shipped `demo.json` covers the cases the product must handle (two organizations with
different roles, no organization, a read-only custom role); a team can point the instance at
its own file. Loading validates ids and references so a typo fails at start-up, not mid-test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from .ids import is_clerk_id

# Fixed so that responses are reproducible: 2024-01-01T00:00:00Z in milliseconds.
_DEFAULT_CREATED_AT = 1_704_067_200_000


class DataError(ValueError):
    """The data file does not describe a consistent directory."""


@dataclass(frozen=True)
class User:
    id: str
    first_name: str | None
    last_name: str | None
    username: str | None
    email: str
    created_at: int

    @property
    def email_address_id(self) -> str:
        """Clerk's id of the primary email address (`idn_…`)."""
        return "idn_" + self.id.removeprefix("user_")

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.email


@dataclass(frozen=True)
class Organization:
    id: str
    name: str
    slug: str
    created_at: int


@dataclass(frozen=True)
class Membership:
    id: str
    user_id: str
    organization_id: str
    role: str
    role_name: str
    permissions: tuple[str, ...]
    created_at: int


@dataclass
class DirectoryData:
    """Lookups over the loaded directory, in file order; only `remove_membership` and
    `change_role` change it."""

    users: dict[str, User]
    organizations: dict[str, Organization]
    memberships: tuple[Membership, ...]
    # role key → (name, permissions)
    roles: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)

    def memberships_of(self, user_id: str) -> list[Membership]:
        return [m for m in self.memberships if m.user_id == user_id]

    def membership(self, user_id: str, organization_id: str) -> Membership | None:
        return next(
            (m for m in self.memberships_of(user_id) if m.organization_id == organization_id),
            None,
        )

    def remove_membership(self, user_id: str, organization_id: str) -> Membership | None:
        """An administrator removed the user from the organization; returns the membership."""
        removed = self.membership(user_id, organization_id)
        if removed is not None:
            self.memberships = tuple(m for m in self.memberships if m is not removed)
        return removed

    def change_role(self, user_id: str, organization_id: str, role: str) -> Membership:
        """An administrator gave the member another role; returns the changed membership."""
        current = self.membership(user_id, organization_id)
        if current is None:
            raise DataError(f"{user_id} is not a member of {organization_id}")
        if role not in self.roles:
            raise DataError(f"unknown role {role!r}")
        name, permissions = self.roles[role]
        changed = replace(current, role=role, role_name=name, permissions=permissions)
        self.memberships = tuple(changed if m is current else m for m in self.memberships)
        return changed

    def members_count(self, organization_id: str) -> int:
        return sum(1 for m in self.memberships if m.organization_id == organization_id)


def load_data(path: str | Path | None = None) -> DirectoryData:
    """Load a directory file; without a path, the shipped demo directory."""
    if path is None:
        text = resources.files(__package__).joinpath("demo.json").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    try:
        return parse_data(json.loads(text))
    except (KeyError, TypeError, AttributeError) as exc:
        raise DataError(f"malformed directory data: {exc!r}") from None


def parse_data(raw: dict[str, Any]) -> DirectoryData:
    roles = {key: (spec["name"], tuple(spec["permissions"])) for key, spec in raw["roles"].items()}
    organizations: dict[str, Organization] = {}
    for org in raw["organizations"]:
        _require_id(org["id"], "org")
        organizations[org["id"]] = Organization(
            id=org["id"],
            name=org["name"],
            slug=org["slug"],
            created_at=org.get("created_at", _DEFAULT_CREATED_AT),
        )
    users: dict[str, User] = {}
    memberships: list[Membership] = []
    for user in raw["users"]:
        _require_id(user["id"], "user")
        users[user["id"]] = User(
            id=user["id"],
            first_name=user.get("first_name"),
            last_name=user.get("last_name"),
            username=user.get("username"),
            email=user["email"],
            created_at=user.get("created_at", _DEFAULT_CREATED_AT),
        )
        for mem in user.get("memberships", []):
            memberships.append(_parse_membership(mem, user["id"], roles, organizations))
    _require_unique([m.id for m in memberships] + list(users) + list(organizations))
    _require_unique([f"{m.user_id} in {m.organization_id}" for m in memberships])
    return DirectoryData(
        users=users, organizations=organizations, memberships=tuple(memberships), roles=roles
    )


def _parse_membership(
    raw: dict[str, Any],
    user_id: str,
    roles: dict[str, tuple[str, tuple[str, ...]]],
    organizations: dict[str, Organization],
) -> Membership:
    _require_id(raw["id"], "orgmem")
    if raw["organization_id"] not in organizations:
        raise DataError(f"membership {raw['id']} names an unknown organization")
    if raw["role"] not in roles:
        raise DataError(f"membership {raw['id']} names an unknown role {raw['role']!r}")
    role_name, permissions = roles[raw["role"]]
    return Membership(
        id=raw["id"],
        user_id=user_id,
        organization_id=raw["organization_id"],
        role=raw["role"],
        role_name=role_name,
        permissions=permissions,
        created_at=raw.get("created_at", _DEFAULT_CREATED_AT),
    )


def _require_id(value: object, prefix: str) -> None:
    if not is_clerk_id(value, prefix):
        raise DataError(f"{value!r} is not a Clerk {prefix}_ id")


def _require_unique(ids: list[str]) -> None:
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise DataError(f"duplicate ids: {', '.join(duplicates)}")
