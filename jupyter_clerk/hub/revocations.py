"""`POST /hub/api/clerk/revocations`: the Hub acts on what Clerk's webhooks say.

The webhook service (`webhook_service`) checks Svix signatures and forwards each verified
event here with its Hub token; this handler runs inside the Hub because only the Hub can make
its own cookies stop working (a new `cookie_id` for the person), drop its caches of Clerk's
answers, revoke tokens and stop servers. Callers need the custom scope `custom:clerk:revoke`.

- session revoked / ended / removed, user deleted: every Hub token of the person is deleted,
  their Hub cookie stops working, and all their servers stop (which closes their sockets);
- membership deleted: that organization's server of that person stops.
"""

from __future__ import annotations

import json
from typing import Any

from jupyterhub.apihandlers.base import APIHandler
from jupyterhub.utils import new_token
from tornado import web

from ..auth.claims import ORG_ID, SESSION_ID, USER_ID, valid_id
from .names import server_name

REVOKE_SCOPE = "custom:clerk:revoke"
KINDS = ("session", "user", "membership")


class RevocationHandler(APIHandler):
    async def post(self) -> None:
        if self.current_user is None or REVOKE_SCOPE not in self.expanded_scopes:
            raise web.HTTPError(403, f"Requires the {REVOKE_SCOPE} scope.")
        body = self.get_json_body()
        if not isinstance(body, dict) or body.get("kind") not in KINDS:
            raise web.HTTPError(400, "A revocation has a kind: session, user or membership.")
        user_id, org = body.get("user"), body.get("org")
        if not valid_id(USER_ID, user_id):
            raise web.HTTPError(400, "user must be a Clerk user id.")
        if body["kind"] == "membership" and not valid_id(ORG_ID, org):
            raise web.HTTPError(400, "org must be a Clerk organization id.")
        if body["kind"] == "session" and not valid_id(SESSION_ID, body.get("session")):
            raise web.HTTPError(400, "session must be a Clerk session id.")
        authenticator = self.authenticator
        authenticator.memberships.invalidate_user(user_id)
        if body["kind"] == "session":
            authenticator.sessions.forget(body["session"])
        user = self.find_user(user_id)
        stopped: list[str] = []
        if user is not None:
            if body["kind"] == "membership":
                stopped = await self._stop(user, [server_name(org)])
            else:
                self._sign_out(user)
                stopped = await self._stop(user, list(user.spawners))
        self.log.info("Clerk revocation %s for %s: stopped %s", body["kind"], user_id, stopped)
        self.finish(json.dumps({"stopped": stopped}))

    def _sign_out(self, user: Any) -> None:
        """No cookie or token the Hub ever gave this person works any more."""
        user.orm_user.cookie_id = new_token()
        for token in list(user.orm_user.api_tokens):
            self.db.delete(token)
        self.db.commit()
        user._auth_refreshed = None

    async def _stop(self, user: Any, names: list[str]) -> list[str]:
        stopped = []
        for name in names:
            spawner = user.spawners.get(name) if name in user.orm_spawners else None
            if spawner is not None and (spawner.active or spawner.ready):
                await self.stop_single_user(user, name)
                stopped.append(name)
        return stopped
