"""ClerkAuthenticator: Clerk sign-in for JupyterHub (`c.JupyterHub.authenticator_class = "clerk"`).

The Hub user name is the Clerk user id, case kept. Sign-in verifies a Clerk session token with
the project's own verifier; `auth_state` keeps the session id and the memberships, which
become Hub groups (one per organization) and, for `org:admin` members, a Hub role over that
organization's servers only (see `org_roles`). `refresh_user` asks the Backend API again,
through caches bounded in size and time, and sends the person back to sign-in once Clerk says
the session is over.
"""

from __future__ import annotations

from typing import Any

from jupyterhub.auth import Authenticator
from tornado import web
from traitlets import Bool, Float, Integer, Unicode, default

from ..auth.claims import USER_ID, valid_id
from ..clerk_api.client import BackendAPI
from ..clerk_api.memberships import MembershipCache
from ..clerk_api.models import Membership
from ..errors import ClerkConfigError, TokenError
from ..identity.settings import ClerkSettings
from ..settings_env import env_str
from ..workspaces.authorizer import role_actions_trait
from .login import ClerkHubLoginHandler
from .org_roles import (
    ADMIN_CLERK_ROLE,
    admin_role,
    admin_role_exists,
    group_members,
    rewrite_admin_role,
)
from .revocations import RevocationHandler
from .sessions import SessionStatusCache
from .spawn import prepare_spawner
from .workspaces import HubWorkspacesHandler


def membership_state(membership: Membership) -> dict[str, Any]:
    """What auth_state keeps of a membership: enough to spawn without asking Clerk again."""
    return {
        "org": membership.organization_id,
        "slug": membership.organization_slug,
        "name": membership.organization_name,
        "role": membership.role,
        "permissions": sorted(membership.permissions),
    }


class ClerkAuthenticator(ClerkSettings, Authenticator):
    """Clerk settings are the same traits as c.ClerkIdentityProvider, set here as
    c.ClerkAuthenticator.* (or with the same CLERK_* environment variables)."""

    login_service = "Clerk"
    config_section = "ClerkAuthenticator"

    session_cache_seconds = Float(
        60.0,
        help="How long a Clerk session's status, read from the Backend API by refresh_user, "
        "is trusted. With auth_refresh_age this bounds how late a revoked session is noticed "
        "when no webhook arrives.",
    ).tag(config=True)
    server_token_cache_seconds = Integer(
        60,
        help="How long a single-user server trusts the Hub's answer about a browser's token "
        "(its c.HubOAuth.cache_max_age; JupyterHub's own default is 300). It bounds how long "
        "a tab already open on a server keeps working after the Hub deleted the person's "
        "tokens or took their organization admin role away; each server asks the Hub once "
        "per token per this many seconds.",
    ).tag(config=True)
    cache_size = Integer(10_000, help="Sessions and people whose Clerk answers are kept.").tag(
        config=True
    )
    workspaces_root = Unicode(
        "",
        help="With a local spawner: the directory holding users/<user id> and orgs/<org id>, "
        "each server's notebook_dir. Env: CLERK_HUB_WORKSPACES_ROOT.",
    ).tag(config=True)
    kube_mount_path = Unicode(
        "/home/jovyan/work",
        help="With KubeSpawner: where the workspace's volume is mounted (and notebook_dir).",
    ).tag(config=True)
    role_actions = role_actions_trait(
        " In hub mode this mapping decides both the single-user servers' authorizer (it is "
        "sent to each server) and, with KubeSpawner, whether the volume is mounted read-only."
    )
    require_membership = Bool(
        False,
        help="Refuse sign-in to people who belong to no organization (B2B deployments).",
    ).tag(config=True)

    @default("workspaces_root")
    def _workspaces_root_default(self) -> str:
        return env_str("CLERK_HUB_WORKSPACES_ROOT")

    @default("auto_login")
    def _auto_login_default(self) -> bool:
        return True

    @default("allow_all")
    def _allow_all_default(self) -> bool:
        return True  # Clerk decides who can sign in; restrict with Clerk's own settings

    @default("manage_groups")
    def _manage_groups_default(self) -> bool:
        return True

    @default("manage_roles")
    def _manage_roles_default(self) -> bool:
        return True

    @default("enable_auth_state")
    def _enable_auth_state_default(self) -> bool:
        return True

    @default("refresh_pre_spawn")
    def _refresh_pre_spawn_default(self) -> bool:
        return True

    @default("auth_refresh_age")
    def _auth_refresh_age_default(self) -> int:
        return 60

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.verifier = self.session_token_verifier()
        if not self.secret_key:
            raise ClerkConfigError(
                f"{self._setting('secret_key')} is required at the Hub: "
                "refresh_user and spawns check sessions and memberships with the Backend API."
            )
        self.backend_api = BackendAPI(
            self._api_base(), self.secret_key, timeout=self.http_timeout_seconds
        )
        self.memberships = MembershipCache(
            self.backend_api.user_memberships,
            ttl=self.membership_cache_seconds,
            max_users=self.cache_size,
        )
        self.sessions = SessionStatusCache(
            self.backend_api.get_session,
            ttl=self.session_cache_seconds,
            max_sessions=self.cache_size,
        )

    # --- names ---------------------------------------------------------------------------

    def normalize_username(self, username: str) -> str:
        return username  # Clerk ids are case-sensitive: lowercasing could merge two people

    def validate_username(self, username: str) -> bool:
        return valid_id(USER_ID, username)

    # --- sign-in ---------------------------------------------------------------------------

    def login_url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/clerk/sign-in"

    def get_handlers(self, app: Any) -> list[tuple[str, type[web.RequestHandler]]]:
        return [
            (r"/clerk/sign-in", ClerkHubLoginHandler),
            (r"/api/clerk/revocations", RevocationHandler),
            (r"/api/clerk/workspaces", HubWorkspacesHandler),
        ]

    async def authenticate(self, handler: Any, data: dict[str, Any] | None) -> dict | None:
        token = (data or {}).get("session_token")
        if not isinstance(token, str) or not token:
            return None
        try:
            claims = await self.verifier.verify(token)
        except TokenError as exc:
            self.log.info("Clerk sign-in refused: %s", exc.reason)
            return None
        if not await self.sessions.active(claims.session_id, claims.user_id):
            # A token outlives its session by up to a minute: never sign in with one of those.
            self.log.info("Clerk sign-in refused: the session is no longer active")
            return None
        memberships = await self.memberships.memberships(claims.user_id)
        if self.require_membership and not memberships:
            raise web.HTTPError(403, "Join an organization before using this Hub.")
        return self._auth_model(handler, claims.user_id, claims.session_id, memberships)

    async def refresh_user(self, user: Any, handler: Any = None) -> bool | dict[str, Any]:
        state = await user.get_auth_state() or {}
        session_id = state.get("session_id")
        if not isinstance(session_id, str) or not await self.sessions.active(session_id, user.name):
            return False
        memberships = await self.memberships.memberships(user.name)
        before = {m.get("org") for m in state.get("memberships", []) if isinstance(m, dict)}
        model = self._auth_model(handler, user.name, session_id, memberships)
        for org in before - set(memberships):
            self._update_org_role(handler, org, user.name, member=False)
        return model

    def _auth_model(
        self, handler: Any, user_id: str, session_id: str, memberships: dict[str, Membership]
    ) -> dict[str, Any]:
        roles: list[dict[str, Any]] = [{"name": "user"}]
        for org, membership in sorted(memberships.items()):
            members = self._update_org_role(handler, org, user_id, member=True)
            if membership.role == ADMIN_CLERK_ROLE:
                roles.append(admin_role(org, members))
        if user_id in self.admin_users:
            roles.append({"name": "admin"})
        return {
            "name": user_id,
            "auth_state": {
                "session_id": session_id,
                "memberships": [membership_state(m) for _, m in sorted(memberships.items())],
            },
            "groups": sorted(memberships),
            "roles": roles,
        }

    def _update_org_role(self, handler: Any, org: str, user_id: str, *, member: bool) -> set[str]:
        """Rewrite the organization's admin role with its members as of now."""
        db = getattr(handler, "db", None)
        if db is None:
            return {user_id} if member else set()
        current = group_members(db, org)
        members = current | {user_id} if member else current - {user_id}
        # Only when the membership changed: a refresh of a steady member writes nothing, and
        # one who left does not bring back the role of an organization deleted meanwhile.
        exists = admin_role_exists(db, org)
        if (member and not exists) or (exists and members != current):
            rewrite_admin_role(db, org, members)
        return members

    # --- spawning ---------------------------------------------------------------------------

    async def pre_spawn_start(self, user: Any, spawner: Any) -> None:
        await prepare_spawner(self, user, spawner)
