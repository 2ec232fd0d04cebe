"""What "access withdrawn" means here, whoever reports it (a webhook, the periodic check).

Each event drops what the server remembers about the affected sessions, users or
organizations (verified tokens, client-token sessions, memberships) and closes their open
WebSockets, so the next request or reconnect is decided afresh by Clerk. A deleted user's
kernels are shut down too: nobody may use them any more.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from ..auth.claims import SessionClaims
from ..cache import ExpiringLRU
from ..clerk_api.client_tokens import ClientTokenResolver
from ..clerk_api.memberships import MembershipsUnavailable
from .open_sockets import Grants, OpenSockets, SocketOwner, granted_in

log = logging.getLogger(__name__)

# Session tokens are stateless: one minted before a revocation still verifies until it
# expires. So what was revoked is remembered, long enough to outlive any token of it.
SIGNED_OUT_MEMORY = 24 * 60 * 60.0
MEMBERSHIP_MEMORY = 10 * 60.0
MAX_REMEMBERED = 100_000
# A socket's close reason, by what was withdrawn (as the revocations below give it).
WITHDRAWN = {
    "session": "Clerk session ended",
    "user": "Clerk user deleted",
    "organization": "Clerk organization deleted",
    "member": "Clerk organization membership changed",
}


class Denylist:
    """Bounded memory of what was withdrawn, and when (wall-clock, like token `iat`)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._entries: OrderedDict[Hashable, tuple[float, float]] = OrderedDict()
        self._clock = clock

    def add(self, key: Hashable, remember_for: float) -> None:
        now = self._clock()
        self._entries[key] = (now, now + remember_for)
        self._entries.move_to_end(key)
        while len(self._entries) > MAX_REMEMBERED:
            self._entries.popitem(last=False)

    def withdrawn_at(self, key: Hashable) -> float | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._clock() >= entry[1]:
            del self._entries[key]
            return None
        return entry[0]


def claims_tags(claims: SessionClaims) -> list[tuple[str, str]]:
    """What revocation looks verified tokens up by."""
    tags = [("session", claims.session_id), ("user", claims.user_id)]
    if claims.organization is not None:
        tags.append(("organization", claims.organization.id))
    return tags


class Revocation:
    """Each event touches only the entries and sockets of its own session, user or org."""

    def __init__(
        self,
        tokens: ExpiringLRU[bytes, SessionClaims],
        client_tokens: ClientTokenResolver | None,
        memberships: Any | None,
        sockets: OpenSockets,
        profiles: Any | None = None,
        grants: Grants | None = None,
    ) -> None:
        self._tokens = tokens
        self._tokens.index_by(claims_tags)
        self._client_tokens = client_tokens
        # The membership cache: invalidate_user/_organization, and reload for the webhook.
        self._memberships = memberships
        self._profiles = profiles  # the profile cache: invalidate(user_id)
        # What a membership lets its holder do: the revalidator's `grants`, for the webhook.
        self._grants = grants
        self.sockets = sockets
        self.denied = Denylist()

    def refuses(
        self, user_id: str, session_id: str, organization_id: str | None, issued_at: float
    ) -> bool:
        """Whether a credential that verified still speaks for withdrawn access.

        A revoked session or deleted user is refused outright; an organization role is refused
        only from credentials issued before it changed (later ones carry the new role).
        """
        return self.withdrawal(user_id, session_id, organization_id, issued_at) is not None

    def withdrawal(
        self, user_id: str, session_id: str, organization_id: str | None, issued_at: float
    ) -> str | None:
        """What withdrew that credential's access, in the words closing its sockets; or None."""
        for key in (("session", session_id), ("user", user_id)):
            if self.denied.withdrawn_at(key) is not None:
                return WITHDRAWN[key[0]]
        if organization_id is None:
            return None
        for key in (("organization", organization_id), ("member", user_id, organization_id)):
            since = self.denied.withdrawn_at(key)
            if since is not None and issued_at <= since:
                return WITHDRAWN[key[0]]
        return None

    def session_ended(self, session_id: str, status: str) -> int:
        """session.revoked / .ended / .removed: returns how many sockets were closed."""
        return self._withdraw(("session", session_id), f"Clerk session {status}")

    async def user_deleted(self, user_id: str, kernel_manager: Any | None) -> int:
        closed = self._withdraw(("user", user_id), "Clerk user deleted")
        if self._memberships is not None:
            self._memberships.invalidate_user(user_id)
        await self._shut_down_kernels_of(user_id, kernel_manager)
        return closed

    def user_updated(self, user_id: str) -> None:
        """user.updated: the name or picture may have changed; access has not."""
        if self._profiles is not None:
            self._profiles.invalidate(user_id)

    def membership_added(self, user_id: str) -> None:
        """organizationMembership.created: the new member need not wait for the cache TTL."""
        if self._memberships is not None:
            self._memberships.invalidate_user(user_id)

    def membership_removed(self, user_id: str, organization_id: str) -> int:
        """organizationMembership.deleted: every socket of theirs there closes."""
        if self._memberships is not None:
            self._memberships.invalidate_user(user_id)
        return self.membership_lost(user_id, organization_id)

    async def membership_changed(self, user_id: str, organization_id: str) -> int:
        """organizationMembership.updated: the user's role there is not what it was.

        The event's own role is not trusted (deliveries can be late or out of order): what
        the membership grants now is read from Clerk, and only the sockets needing more
        close, as in revalidation. When Clerk cannot be asked, all of them close. Tokens
        minted before carry the old role, whichever it was: refused there at once.
        """
        if self._memberships is None or self._grants is None:
            return self.membership_removed(user_id, organization_id)
        self._memberships.invalidate_user(user_id)
        self._refuse_older_tokens(user_id, organization_id)
        if not self.sockets.holds(user_id, organization_id):
            return 0  # nothing open to decide about: no call to Clerk
        try:
            memberships = await self._memberships.reload(user_id)
        except MembershipsUnavailable:
            log.warning(
                "Could not read a changed membership from Clerk: closing that person's "
                "WebSockets in the organization"
            )
            return self._close_needing_more(user_id, organization_id, None)
        granted = granted_in(memberships, organization_id, self._grants)
        return self._close_needing_more(user_id, organization_id, granted)

    def membership_lost(
        self, user_id: str, organization_id: str, still_granted: frozenset[str] | None = None
    ) -> int:
        """The user lost the membership (`still_granted` None) or something an open socket
        there needs: tokens minted before carry the old role, so they are refused there for a
        while, and the sockets needing more than `still_granted` close.

        The membership cache is left alone: revalidation has just read it from Clerk.
        """
        self._refuse_older_tokens(user_id, organization_id)
        return self._close_needing_more(user_id, organization_id, still_granted)

    def _refuse_older_tokens(self, user_id: str, organization_id: str) -> None:
        self.denied.add(("member", user_id, organization_id), MEMBERSHIP_MEMORY)

    def _close_needing_more(
        self, user_id: str, organization_id: str, still_granted: frozenset[str] | None
    ) -> int:
        def affected(owner: SocketOwner) -> bool:
            if owner.organization_id != organization_id:
                return False
            return still_granted is None or not owner.needs <= still_granted

        # Only that user's sockets are looked at, not the server's.
        return self.sockets.close_tagged_where(
            ("user", user_id), affected, "Clerk organization membership changed"
        )

    def organization_deleted(self, organization_id: str) -> int:
        closed = self._withdraw(("organization", organization_id), "Clerk organization deleted")
        if self._memberships is not None:
            self._memberships.invalidate_organization(organization_id)
        return closed

    def _withdraw(self, tag: tuple[str, str], reason: str) -> int:
        """Remembers the withdrawal, forgets what was cached for it, closes its sockets."""
        self.denied.add(tag, SIGNED_OUT_MEMORY)
        self._tokens.discard_tagged(tag)
        if self._client_tokens is not None:
            self._client_tokens.discard_tagged(tag)
        if tag[0] == "user" and self._profiles is not None:
            self._profiles.invalidate(tag[1])
        return self.sockets.close_tagged(tag, reason)

    @staticmethod
    async def _shut_down_kernels_of(user_id: str, kernel_manager: Any | None) -> None:
        owner_of = getattr(kernel_manager, "owner_of", None)
        if owner_of is None:
            return
        for kernel_id in list(kernel_manager.list_kernel_ids()):
            owner = owner_of(kernel_id)
            if owner is not None and owner.user_id == user_id:
                log.info("Shutting down kernel %s of a deleted Clerk user", kernel_id)
                await kernel_manager.shutdown_kernel(kernel_id, now=True)
