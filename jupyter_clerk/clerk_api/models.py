"""Typed, validated views of the Backend API's JSON resources.

Parsing checks every id against Clerk's id shapes, so an id read from a response can go
into a URL path, a cache key or a log line like an id read from a verified token.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..auth.claims import CLIENT_ID, ORG_ID, SESSION_ID, USER_ID, valid_id


class MalformedResponse(ValueError):
    """A Backend API answer that does not have the shape Clerk documents."""


@dataclass(frozen=True)
class User:
    id: str
    username: str | None
    first_name: str | None
    last_name: str | None
    image_url: str | None
    banned: bool
    locked: bool


@dataclass(frozen=True)
class Membership:
    """A user's membership of one organization: what decides their role and permissions there."""

    id: str
    user_id: str
    organization_id: str
    organization_slug: str | None
    organization_name: str
    role: str
    permissions: frozenset[str]


@dataclass(frozen=True)
class Session:
    id: str
    user_id: str
    client_id: str
    status: str
    last_active_organization_id: str | None
    last_active_at: int
    expire_at: int


@dataclass(frozen=True)
class Client:
    """A browser or device; it can hold several signed-in sessions (multi-session mode)."""

    id: str
    sessions: tuple[Session, ...]
    last_active_session_id: str | None


def _object(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedResponse(f"{what} is not an object")
    return value


def _id(data: Mapping[str, Any], name: str, pattern: re.Pattern[str]) -> str:
    value = data.get(name)
    if not valid_id(pattern, value):
        raise MalformedResponse(f"{name} is not a valid id")
    return value


def _optional_id(data: Mapping[str, Any], name: str, pattern: re.Pattern[str]) -> str | None:
    # Clerk sends null or "" for "none"; anything else must be a well-formed id.
    return _id(data, name, pattern) if data.get(name) not in (None, "") else None


def _str(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise MalformedResponse(f"{name} is not a string")
    return value


def _optional_str(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    return value if isinstance(value, str) else None


def _int(data: Mapping[str, Any], name: str) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedResponse(f"{name} is not an integer")
    return value


def parse_user(value: object) -> User:
    data = _object(value, "user")
    return User(
        id=_id(data, "id", USER_ID),
        username=_optional_str(data, "username"),
        first_name=_optional_str(data, "first_name"),
        last_name=_optional_str(data, "last_name"),
        image_url=_optional_str(data, "image_url"),
        banned=data.get("banned") is True,
        locked=data.get("locked") is True,
    )


def parse_membership(value: object) -> Membership:
    data = _object(value, "membership")
    organization = _object(data.get("organization"), "membership.organization")
    user = _object(data.get("public_user_data"), "membership.public_user_data")
    permissions = data.get("permissions") or []
    if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
        raise MalformedResponse("permissions is not a list of strings")
    return Membership(
        id=_str(data, "id"),
        user_id=_id(user, "user_id", USER_ID),
        organization_id=_id(organization, "id", ORG_ID),
        organization_slug=_optional_str(organization, "slug"),
        organization_name=_str(organization, "name"),
        role=_str(data, "role"),
        permissions=frozenset(permissions),
    )


def parse_session(value: object) -> Session:
    data = _object(value, "session")
    return Session(
        id=_id(data, "id", SESSION_ID),
        user_id=_id(data, "user_id", USER_ID),
        client_id=_id(data, "client_id", CLIENT_ID),
        status=_str(data, "status"),
        last_active_organization_id=_optional_id(data, "last_active_organization_id", ORG_ID),
        last_active_at=_int(data, "last_active_at"),
        expire_at=_int(data, "expire_at"),
    )


def parse_client(value: object) -> Client:
    data = _object(value, "client")
    sessions = data.get("sessions")
    if not isinstance(sessions, list):
        raise MalformedResponse("sessions is not a list")
    return Client(
        id=_id(data, "id", CLIENT_ID),
        sessions=tuple(parse_session(s) for s in sessions),
        last_active_session_id=_optional_id(data, "last_active_session_id", SESSION_ID),
    )
