"""Clerk's JSON resource shapes (Backend API), built from the instance's data and state.

Field names and nesting follow `@clerk/backend`'s JSON types and the Backend API spec, so
Clerk's own SDKs can parse every response. Timestamps are milliseconds since the epoch.
"""

from __future__ import annotations

from typing import Any

from .data import DirectoryData, Membership, Organization, User
from .state import Client, Session


def user_json(user: User) -> dict[str, Any]:
    return {
        "object": "user",
        "id": user.id,
        "external_id": None,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "image_url": "",
        "has_image": False,
        "primary_email_address_id": user.email_address_id,
        "primary_phone_number_id": None,
        "primary_web3_wallet_id": None,
        "password_enabled": False,
        "two_factor_enabled": False,
        "totp_enabled": False,
        "backup_code_enabled": False,
        "mfa_enabled_at": None,
        "mfa_disabled_at": None,
        "email_addresses": [_email_json(user)],
        "phone_numbers": [],
        "web3_wallets": [],
        "passkeys": [],
        "external_accounts": [],
        "saml_accounts": [],
        "enterprise_accounts": [],
        "public_metadata": {},
        "private_metadata": {},
        "unsafe_metadata": {},
        "last_sign_in_at": None,
        "banned": False,
        "locked": False,
        "lockout_expires_in_seconds": None,
        "verification_attempts_remaining": 100,
        "delete_self_enabled": True,
        "create_organization_enabled": True,
        "last_active_at": None,
        "legal_accepted_at": None,
        "created_at": user.created_at,
        "updated_at": user.created_at,
    }


def _email_json(user: User) -> dict[str, Any]:
    return {
        "object": "email_address",
        "id": user.email_address_id,
        "email_address": user.email,
        "reserved": False,
        "verification": {
            "object": "verification_admin",
            "status": "verified",
            "strategy": "admin",
            "attempts": None,
            "expire_at": None,
        },
        "linked_to": [],
        "created_at": user.created_at,
        "updated_at": user.created_at,
    }


def organization_json(organization: Organization, members_count: int) -> dict[str, Any]:
    return {
        "object": "organization",
        "id": organization.id,
        "name": organization.name,
        "slug": organization.slug,
        "image_url": "",
        "has_image": False,
        "members_count": members_count,
        "max_allowed_memberships": 0,
        "admin_delete_enabled": True,
        "public_metadata": {},
        "private_metadata": {},
        "created_at": organization.created_at,
        "updated_at": organization.created_at,
    }


def membership_json(membership: Membership, data: DirectoryData) -> dict[str, Any]:
    user = data.users[membership.user_id]
    organization = data.organizations[membership.organization_id]
    return {
        "object": "organization_membership",
        "id": membership.id,
        "role": membership.role,
        "role_name": membership.role_name,
        "permissions": list(membership.permissions),
        "public_metadata": {},
        "private_metadata": {},
        "organization": organization_json(organization, data.members_count(organization.id)),
        "public_user_data": {
            "user_id": user.id,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "profile_image_url": "",
            "image_url": "",
            "has_image": False,
            "identifier": user.email,
        },
        "created_at": membership.created_at,
        "updated_at": membership.created_at,
    }


def session_json(session: Session) -> dict[str, Any]:
    return {
        "object": "session",
        "id": session.id,
        "user_id": session.user_id,
        "client_id": session.client_id,
        "status": session.status,
        "last_active_organization_id": session.last_active_organization_id,
        "actor": None,
        "last_active_at": session.last_active_at,
        "expire_at": session.expire_at,
        "abandon_at": session.abandon_at,
        "created_at": session.created_at,
        "updated_at": session.updated_at,
    }


def client_json(client: Client, sessions: list[Session]) -> dict[str, Any]:
    return {
        "object": "client",
        "id": client.id,
        "session_ids": list(client.session_ids),
        "sessions": [session_json(s) for s in sessions],
        "sign_in_id": None,
        "sign_up_id": None,
        "last_active_session_id": client.last_active_session_id,
        "last_authentication_strategy": None,
        "created_at": client.created_at,
        "updated_at": client.updated_at,
    }


def token_json(jwt: str) -> dict[str, str]:
    return {"object": "token", "jwt": jwt}


def paginated(data: list[dict[str, Any]], total_count: int) -> dict[str, Any]:
    return {"data": data, "total_count": total_count}
