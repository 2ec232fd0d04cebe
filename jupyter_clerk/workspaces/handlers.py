"""`GET /clerk/api/workspaces`: where this person may work, for the organization switcher."""

from __future__ import annotations

from typing import Any

from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..clerk_api.memberships import MembershipCache


class WorkspacesHandler(APIHandler):
    @web.authenticated
    async def get(self) -> None:
        user = self.current_user
        provider = self.identity_provider
        memberships: MembershipCache | None = getattr(provider, "memberships", None)
        organizations: dict[str, dict[str, Any]] = {}
        if memberships is not None:
            for membership in (await memberships.memberships(user.username)).values():
                organizations[membership.organization_id] = {
                    "id": membership.organization_id,
                    "slug": membership.organization_slug,
                    "name": membership.organization_name,
                    "role": membership.role,
                }
        token_org = user.organization
        if token_org is not None and token_org.id not in organizations:
            organizations[token_org.id] = {
                "id": token_org.id,
                "slug": token_org.slug,
                "name": token_org.slug or token_org.id,
                "role": token_org.role,
            }
        workspace = user.workspace
        self.finish(
            {
                "personal_enabled": bool(getattr(provider, "personal_workspaces", False)),
                "organizations": sorted(organizations.values(), key=lambda o: o["name"].lower()),
                "current": {"kind": workspace.kind, "id": workspace.id},
            }
        )
