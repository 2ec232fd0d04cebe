"""`POST /hub/api/clerk/revocations`: the Hub acts on what Clerk's webhooks say.

The webhook service (`webhook_service`) checks Svix signatures and forwards each verified
event here with its Hub token; this handler runs inside the Hub because only the Hub can make
its own cookies stop working (a new `cookie_id` for the person), drop its caches of Clerk's
answers, change groups and roles, revoke tokens and stop servers. Callers need the custom
scope `custom:clerk:revoke`.

- session revoked / ended / removed, user deleted: every Hub token of the person is deleted,
  their Hub cookie stops working, and all their servers stop (which closes their sockets);
- membership deleted: that organization's server of that person stops, and they leave its
  group and admin role at once (see `org_roles`);
- membership updated (`role`): Clerk is asked for the membership as it is now (the event
  may be stale or out of order); the admin role follows it, and if the role grants fewer
  actions than the running server of that organization was started with, that server stops;
- organization deleted: every person's server of that organization stops, and its group and
  admin role are deleted.

A server still starting cannot be stopped by the Hub: the answer comes at once (groups, roles
and tokens have changed, and new spawns are refused), and the server is stopped in the
background as soon as it has started, within the spawner's own start and HTTP timeouts.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from jupyterhub import orm
from jupyterhub.apihandlers.base import APIHandler
from jupyterhub.utils import new_token
from tornado import web

from ..auth.claims import ORG_ID, SESSION_ID, USER_ID, valid_id
from ..workspaces.authorizer import membership_actions, workspace_actions
from .names import server_name
from .org_roles import ADMIN_CLERK_ROLE, delete_organization, leave_organization, set_admin
from .server_env import role_actions_from_environment, workspace_from_environment

REVOKE_SCOPE = "custom:clerk:revoke"
KINDS = ("session", "user", "membership", "role", "organization")
STARTING_POLL = 0.25  # seconds between looks at a server that was starting at a revocation
SPAWN_SLACK = 10.0  # seconds past the spawner's own start and HTTP timeouts
_BACKGROUND: set[asyncio.Future[None]] = set()  # stops waiting for a spawn: kept referenced


class RevocationHandler(APIHandler):
    async def post(self) -> None:
        if self.current_user is None or REVOKE_SCOPE not in self.expanded_scopes:
            raise web.HTTPError(403, f"Requires the {REVOKE_SCOPE} scope.")
        body = self.get_json_body()
        if not isinstance(body, dict) or body.get("kind") not in KINDS:
            raise web.HTTPError(400, f"A revocation has a kind: {', '.join(KINDS)}.")
        kind, user_id, org = body["kind"], body.get("user"), body.get("org")
        if kind in ("membership", "role", "organization") and not valid_id(ORG_ID, org):
            raise web.HTTPError(400, "org must be a Clerk organization id.")
        if kind == "organization":
            stopped = await self._organization_deleted(org)
            self.log.info("Clerk organization %s deleted: stopped %s", org, stopped)
            self.finish(json.dumps({"stopped": stopped}))
            return
        if not valid_id(USER_ID, user_id):
            raise web.HTTPError(400, "user must be a Clerk user id.")
        if kind == "session" and not valid_id(SESSION_ID, body.get("session")):
            raise web.HTTPError(400, "session must be a Clerk session id.")
        authenticator = self.authenticator
        authenticator.memberships.invalidate_user(user_id)
        if kind == "session":
            authenticator.sessions.forget(body["session"])
        user = self.find_user(user_id)
        stopped: list[str] = []
        if user is not None:
            if kind == "membership":
                stopped = await self._left(user, org)
            elif kind == "role":
                stopped = await self._role_changed(user, org)
            else:
                self._sign_out(user)
                stopped = await self._stop(user, list(user.spawners))
        self.log.info("Clerk revocation %s for %s: stopped %s", kind, user_id, stopped)
        self.finish(json.dumps({"stopped": stopped}))

    def _sign_out(self, user: Any) -> None:
        """No cookie or token the Hub ever gave this person works any more."""
        user.orm_user.cookie_id = new_token()
        for token in list(user.orm_user.api_tokens):
            self.db.delete(token)
        self.db.commit()
        user._auth_refreshed = None

    async def _left(self, user: Any, org: str) -> list[str]:
        leave_organization(self.db, user.orm_user, org)
        user._auth_refreshed = None  # the next request refreshes groups and roles from Clerk
        return await self._stop(user, [server_name(org)])

    async def _role_changed(self, user: Any, org: str) -> list[str]:
        try:
            membership = await self.authenticator.memberships.membership(user.name, org)
        except web.HTTPError:
            self.log.warning("Clerk could not confirm %s in %s: treated as left", user.name, org)
            membership = None
        if membership is None:
            return await self._left(user, org)
        set_admin(self.db, user.orm_user, org, membership.role == ADMIN_CLERK_ROLE)
        user._auth_refreshed = None
        now = membership_actions(membership, self.authenticator.role_actions)
        name = server_name(org)
        spawner = user.spawners.get(name) if name in user.orm_spawners else None
        if spawner is not None and lost_rights(spawner, now):
            return await self._stop(user, [name])
        return []

    async def _organization_deleted(self, org: str) -> list[str]:
        name = server_name(org)
        self.authenticator.memberships.invalidate_organization(org)
        owners = {s.user for s in self.db.query(orm.Spawner).filter(orm.Spawner.name == name)}
        group = orm.Group.find(self.db, org)
        owners |= set(group.users) if group is not None else set()
        users = [self.find_user(owner.name) for owner in owners]
        for user in users:
            self.authenticator.memberships.invalidate_user(user.name)
            user._auth_refreshed = None
        delete_organization(self.db, org)
        stopped = await asyncio.gather(*(self._stop(user, [name]) for user in users))
        return [
            f"{user.name}/{n}" for user, names in zip(users, stopped, strict=True) for n in names
        ]

    async def _stop(self, user: Any, names: list[str]) -> list[str]:
        stopped = []
        for name in names:
            spawner = user.spawners.get(name) if name in user.orm_spawners else None
            if spawner is None or not (spawner.active or spawner.ready):
                continue
            if spawner.pending == "spawn":
                # The Hub cannot stop a server while it starts: stop it once it has.
                task = asyncio.ensure_future(self._stop_after_start(user, name, spawner))
                _BACKGROUND.add(task)
                task.add_done_callback(_BACKGROUND.discard)
                stopped.append(name)
            elif spawner.pending != "stop":
                await self.stop_single_user(user, name)
                stopped.append(name)
        return stopped

    async def _stop_after_start(self, user: Any, name: str, spawner: Any) -> None:
        """Wait (as long as the Hub itself lets a spawn take) for a starting server, then
        stop it: what it was started with has been revoked meanwhile."""
        deadline = time.monotonic() + spawner.start_timeout + spawner.http_timeout + SPAWN_SLACK
        while spawner.pending == "spawn" and time.monotonic() < deadline:
            await asyncio.sleep(STARTING_POLL)
        if spawner.pending == "spawn":
            self.log.error("%s/%s still starting after a revocation: not stopped", user.name, name)
        elif spawner.ready and spawner.pending is None:
            self.log.info("Stopping %s/%s, started after a revocation", user.name, name)
            try:
                await self.stop_single_user(user, name)
            except Exception:  # nobody awaits this task: say it here
                self.log.exception("Could not stop %s/%s after a revocation", user.name, name)


def lost_rights(spawner: Any, now: frozenset[str]) -> bool:
    """Whether the server was started with an action the person no longer has. A running
    server keeps the rights it started with (its kernels hold them, a pod its mounts), so
    losing one means stopping it. When the Hub cannot tell (it restarted since the spawn),
    the answer is yes: fail closed."""
    try:
        workspace = workspace_from_environment(spawner.environment)
        role_actions = role_actions_from_environment(spawner.environment)
    except RuntimeError:
        return True
    return not workspace_actions(workspace, role_actions) <= now
