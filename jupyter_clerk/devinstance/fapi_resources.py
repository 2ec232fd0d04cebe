"""Clerk's Frontend API resource shapes (what clerk-js parses), built from the instance's state.

Field names follow `@clerk/types` (`EnvironmentJSON`, `ClientJSON`, `SessionJSON`, `UserJSON`,
`SignInJSON`, `OrganizationMembershipJSON`). Unlike the Backend API, nothing here carries
`private_metadata`: these answers go to browsers.
"""

from __future__ import annotations

from typing import Any

from .data import DirectoryData, Membership, User
from .resources import membership_json, user_json
from .state import Client, Session

_ENVIRONMENT_ID = "env_local"

# Every attribute clerk-js knows; only email and password are switched on.
_ATTRIBUTES = (
    "email_address",
    "phone_number",
    "username",
    "web3_wallet",
    "first_name",
    "last_name",
    "password",
    "authenticator_app",
    "backup_code",
    "passkey",
)


def _attribute(name: str) -> dict[str, Any]:
    identifier = name == "email_address"
    enabled = name in ("email_address", "password")
    return {
        "enabled": enabled,
        "required": enabled,
        "used_for_first_factor": identifier,
        "first_factors": [],
        "used_for_second_factor": False,
        "second_factors": [],
        "verifications": ["email_code"] if identifier else [],
        "verify_at_sign_up": identifier,
    }


def environment_json(application_name: str) -> dict[str, Any]:
    """`EnvironmentJSON`: auth_config, display_config, user_settings, organization_settings,
    commerce_settings; a development instance with email + password sign-in, organizations on."""
    return {
        "object": "environment",
        "id": _ENVIRONMENT_ID,
        "auth_config": {
            "object": "auth_config",
            "id": "aac_local",
            "single_session_mode": True,
            "claimed_at": None,
            "reverification": False,
        },
        "display_config": {
            "object": "display_config",
            "id": "display_config_local",
            "instance_environment_type": "development",
            "application_name": application_name,
            "theme": {"general": {"color": "#6c47ff"}, "buttons": {}, "accounts": {}},
            "preferred_sign_in_strategy": "password",
            "logo_image_url": "",
            "favicon_image_url": "",
            "home_url": "",
            "sign_in_url": "",
            "sign_up_url": "",
            "user_profile_url": "",
            "after_sign_in_url": "",
            "after_sign_up_url": "",
            "after_sign_out_one_url": "",
            "after_sign_out_all_url": "",
            "after_switch_session_url": "",
            "organization_profile_url": "",
            "create_organization_url": "",
            "after_leave_organization_url": "",
            "after_create_organization_url": "",
            "support_email": "",
            "branded": False,
            "captcha_public_key": None,
            "captcha_widget_type": None,
            "captcha_provider": None,
            "captcha_public_key_invisible": None,
            "captcha_oauth_bypass": [],
            "captcha_heartbeat": False,
            "google_one_tap_client_id": None,
            "show_devmode_warning": False,
            "terms_url": None,
            "privacy_policy_url": None,
            "waitlist_url": "",
            "after_join_waitlist_url": "",
        },
        "user_settings": {
            "attributes": {name: _attribute(name) for name in _ATTRIBUTES},
            "actions": {"delete_self": False, "create_organization": False},
            "social": {},
            "saml": {"enabled": False},
            "enterprise_sso": {"enabled": False},
            "sign_in": {"second_factor": {"required": False}},
            "sign_up": {
                "custom_action_required": False,
                "progressive": True,
                "captcha_enabled": False,
                "disable_hibp": True,
                "mode": "restricted",
                "legal_consent_enabled": False,
            },
            "restrictions": {"allowlist": {"enabled": False}, "blocklist": {"enabled": False}},
            "password_settings": {
                "allowed_special_characters": "",
                "max_length": 0,
                "min_length": 8,
                "require_special_char": False,
                "require_numbers": False,
                "require_lowercase": False,
                "require_uppercase": False,
                "disable_hibp": True,
                "show_zxcvbn": False,
                "min_zxcvbn_strength": 0,
            },
            "passkey_settings": {"allow_autofill": False, "show_sign_in_button": False},
            "username_settings": {"min_length": 4, "max_length": 64},
        },
        "organization_settings": {
            "enabled": True,
            "max_allowed_memberships": 0,
            "force_organization_selection": False,
            "actions": {"admin_delete": True},
            "domains": {"enabled": False, "enrollment_modes": [], "default_role": None},
            "slug": {"disabled": False},
        },
        "commerce_settings": {
            "object": "commerce_settings",
            "id": "commerce_settings_local",
            "billing": {
                "enabled": False,
                "has_paid_plans": False,
                "user": {"enabled": False, "has_paid_plans": False},
                "organization": {"enabled": False, "has_paid_plans": False},
                "stripe_publishable_key": "",
            },
        },
        "api_keys_settings": {"enabled": False},
        "maintenance_mode": False,
    }


def _public(resource: dict[str, Any]) -> dict[str, Any]:
    """Drop what only the Backend API may show (recursively, for nested organizations)."""
    return {
        key: _public(value) if isinstance(value, dict) else value
        for key, value in resource.items()
        if key != "private_metadata"
    }


def fapi_membership_json(membership: Membership, data: DirectoryData) -> dict[str, Any]:
    """`OrganizationMembershipJSON`: id, role, role_name, permissions, organization,
    public_user_data, public_metadata, timestamps."""
    body = _public(membership_json(membership, data))
    body["organization"]["pending_invitations_count"] = 0
    return body


def fapi_user_json(user: User, data: DirectoryData) -> dict[str, Any]:
    """`UserJSON` with `organization_memberships` (clerk-js derives the active organization
    from them) and `password_enabled` (the demo people sign in with a password)."""
    body = _public(user_json(user))
    body.update(
        {
            "password_enabled": True,
            "profile_image_url": "",
            "create_organizations_limit": None,
            "organization_memberships": [
                fapi_membership_json(m, data) for m in data.memberships_of(user.id)
            ],
        }
    )
    return body


def public_user_data_json(user: User) -> dict[str, Any]:
    return {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "image_url": "",
        "has_image": False,
        "identifier": user.email,
        "user_id": user.id,
    }


def fapi_session_json(session: Session, data: DirectoryData, jwt: str | None) -> dict[str, Any]:
    """`SessionJSON`: id, status, timestamps, last_active_organization_id, last_active_token,
    user, public_user_data, actor, tasks, factor_verification_age."""
    user = data.users[session.user_id]
    return {
        "object": "session",
        "id": session.id,
        "status": session.status,
        "expire_at": session.expire_at,
        "abandon_at": session.abandon_at,
        "last_active_at": session.last_active_at,
        "last_active_organization_id": session.last_active_organization_id,
        "last_active_token": {"object": "token", "jwt": jwt} if jwt else None,
        "actor": None,
        "tasks": None,
        "factor_verification_age": [0, -1],
        "user": fapi_user_json(user, data),
        "public_user_data": public_user_data_json(user),
        "created_at": session.created_at,
        "updated_at": session.updated_at,
    }


def fapi_client_json(
    client: Client,
    sessions: list[dict[str, Any]],
    last_active_session_id: str | None,
    sign_in: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`ClientJSON`: id, sessions (signed-in ones only), last_active_session_id, sign_in,
    sign_up, cookie_expires_at, captcha_bypass, timestamps."""
    return {
        "object": "client",
        "id": client.id,
        "sessions": sessions,
        "sign_in": sign_in,
        "sign_up": None,
        "last_active_session_id": last_active_session_id,
        "last_authentication_strategy": None,
        "cookie_expires_at": None,
        "captcha_bypass": False,
        "created_at": client.created_at,
        "updated_at": client.updated_at,
    }
