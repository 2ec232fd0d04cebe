"""`DevInstance`: a whole local Clerk-compatible instance, startable in-process.

Tests start one on a free loopback port in their own event loop, point the Jupyter server
at `publishable_key`, `secret_key`, `api_url` and `jwks_url`, and use the helpers here to
create sessions and mint tokens (good or deliberately broken) without any HTTP round trip.
"""

from __future__ import annotations

import secrets
import socket
import string
from collections.abc import Iterable, Mapping
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from ..auth.publishable_key import PublishableKeyError, build_publishable_key, parse_publishable_key
from .base import InstanceContext
from .client_tokens import mint_client_token
from .data import DirectoryData, load_data
from .faults import FaultPlan
from .frontend_state import DEMO_PASSWORD, FrontendState
from .ids import new_id
from .origins import OriginPolicy
from .resources import membership_json, session_json
from .server import make_app
from .session_tokens import DEFAULT_LIFETIME, SessionTokenMinter
from .signing import KeyRing
from .state import Session, SessionStatus, SessionStore
from .webhooks import WebhookSender, new_webhook_secret

_ALPHANUMERIC = string.ascii_letters + string.digits


def new_secret_key() -> str:
    return "sk_test_" + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(40))


class DevInstance:
    """A local instance; properties that depend on the bound port exist after `start()`."""

    def __init__(
        self,
        data: DirectoryData | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        allowed_origins: Iterable[str] = (),
        token_lifetime: int = DEFAULT_LIFETIME,
        secret_key: str | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        password: str = DEMO_PASSWORD,
    ) -> None:
        if secret_key is not None and not secret_key.startswith("sk_test_"):
            raise ValueError("a development secret key starts with sk_test_")
        self.data = data if data is not None else load_data()
        self.host = host
        self.port = port
        self.origins = OriginPolicy(list(allowed_origins))
        self.token_lifetime = token_lifetime
        # Every demo person's password for Clerk's <SignIn/> (a development instance only).
        self.password = password
        self.secret_key = secret_key or new_secret_key()
        self.store = SessionStore(self.data)
        self.keyring = KeyRing()
        # Backend API faults to inject (`instance.faults.fail(503)`) and the calls it served.
        self.faults = FaultPlan()
        self.webhooks: WebhookSender | None = None
        self.store.on_signed_out = self._signed_out
        if webhook_url is not None:
            self.configure_webhooks(webhook_url, webhook_secret)
        self._ctx: InstanceContext | None = None
        self._server: HTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Bind (port 0 picks a free one) and serve in the running event loop."""
        if self._server is not None:
            raise RuntimeError("the instance is already running")
        sockets = bind_sockets(self.port, self.host, family=_family(self.host))
        try:
            self.port = sockets[0].getsockname()[1]
            host = f"[{self.host}]" if ":" in self.host else self.host
            frontend_api = f"{host}:{self.port}"
            # The issuer is derived from the publishable key, exactly as verifiers derive it.
            issuer = parse_publishable_key(build_publishable_key(frontend_api)).issuer
        except PublishableKeyError:
            for sock in sockets:
                sock.close()
            raise ValueError(
                f"cannot serve on {self.host!r}: a publishable key needs an IP address or a "
                "dotted host name (use 127.0.0.1 rather than localhost)"
            ) from None
        self._ctx = InstanceContext(
            url=f"http://{frontend_api}",
            secret_key=self.secret_key,
            data=self.data,
            store=self.store,
            keyring=self.keyring,
            minter=SessionTokenMinter(self.keyring, self.data, issuer),
            origins=self.origins,
            token_lifetime=self.token_lifetime,
            faults=self.faults,
            frontend=FrontendState(password=self.password),
        )
        self._server = HTTPServer(make_app(self._ctx))
        self._server.add_sockets(sockets)

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.stop()
        await self._server.close_all_connections()
        self._server = None

    @property
    def url(self) -> str:
        return self._context().url

    @property
    def publishable_key(self) -> str:
        return build_publishable_key(self._context().url.removeprefix("http://"))

    @property
    def issuer(self) -> str:
        """`https://<host:port>`: the `iss` of every token, though the instance serves http."""
        return self._context().minter.issuer

    @property
    def api_url(self) -> str:
        """Base URL for the Backend API (clients append `/v1/...`), like `https://api.clerk.com`."""
        return self._context().url

    @property
    def jwks_url(self) -> str:
        return self._context().url + "/.well-known/jwks.json"

    @property
    def public_key_pem(self) -> str:
        """The current signing key as PEM: for networkless verification."""
        return self.keyring.current.public_pem()

    # -- helpers for tests -------------------------------------------------------------

    def create_session(
        self,
        user_id: str,
        org_id: str | None = None,
        status: SessionStatus = "active",
        *,
        client_id: str | None = None,
    ) -> Session:
        """A session on a new client, or added to `client_id` (multi-session); `org_id` (a
        membership of the user) becomes active. The session becomes its client's last active."""
        return self.store.sign_in(
            user_id, client_id=client_id, organization_id=org_id, status=status
        )

    def client_token(self, client_id: str) -> str:
        """The client's `__client`-shaped token, as a non-browser caller would hold it."""
        return mint_client_token(self.keyring, self.store.client(client_id))

    def rotate_client_token(self, client_id: str) -> None:
        """Invalidate every token minted for the client so far."""
        self.store.client(client_id).rotating_token = new_id("rt")

    def activate_session(self, session_id: str) -> Session:
        """Make a signed-in session its client's last active one (Clerk's `setActive`)."""
        return self.store.activate(session_id)

    def remove_session(self, session_id: str) -> Session:
        return self.store.remove(session_id)

    def session_token(
        self,
        session_id: str,
        org_id: str | None = None,
        *,
        lifetime: int | None = None,
        azp: str | None = None,
        extra_claims: Mapping[str, Any] | None = None,
        drop_claims: Iterable[str] = (),
        header_overrides: Mapping[str, Any] | None = None,
    ) -> str:
        """A session token signed by the current key.

        `org_id` None means the session's active organization (none: a personal token);
        `azp` None means the first allowed origin with a port. `extra_claims` add or replace
        claims, `drop_claims` remove them, `header_overrides` change header fields (None
        removes one): enough to forge every kind of bad token with the real key.
        """
        session = self.store.session(session_id)
        return self._context().minter.mint(
            session,
            organization_id=org_id or session.last_active_organization_id,
            lifetime=self.token_lifetime if lifetime is None else lifetime,
            azp=azp or self.origins.default_origin,
            extra_claims=extra_claims,
            drop_claims=drop_claims,
            header_overrides=header_overrides,
        )

    def set_active_organization(self, session_id: str, org_id: str | None) -> Session:
        return self.store.set_active_organization(session_id, org_id)

    def end_session(self, session_id: str) -> Session:
        return self.store.end(session_id)

    def revoke_session(self, session_id: str) -> Session:
        return self.store.revoke(session_id)

    def remove_membership(self, user_id: str, org_id: str) -> None:
        """An administrator removes the user from the organization (webhook included)."""
        membership = self.data.membership(user_id, org_id)
        if membership is None:
            raise ValueError(f"{user_id} is not a member of {org_id}")
        body = membership_json(membership, self.data)
        self.data.remove_membership(user_id, org_id)
        self._send("organizationMembership.deleted", body)

    def change_role(self, user_id: str, org_id: str, role: str) -> None:
        """An administrator gives the member another role there (webhook included)."""
        changed = self.data.change_role(user_id, org_id, role)
        self._send("organizationMembership.updated", membership_json(changed, self.data))

    def configure_webhooks(self, url: str, secret: str | None = None) -> str:
        """Send Svix-signed webhooks to `url` from now on; returns the `whsec_` secret."""
        self.webhooks = WebhookSender(url, secret or new_webhook_secret())
        return self.webhooks.secret

    def _signed_out(self, session: Session) -> None:
        if session.status in ("ended", "revoked", "removed"):
            self._send(f"session.{session.status}", session_json(session))

    def _send(self, event_type: str, data: dict[str, Any]) -> None:
        if self.webhooks is not None:
            self.webhooks.send(event_type, data)

    def rotate_keys(self) -> str:
        """Sign with a new key from now on; returns its `kid`. Old keys stay published."""
        return self.keyring.rotate().kid

    def retire_old_keys(self) -> None:
        self.keyring.retire_old_keys()

    def _context(self) -> InstanceContext:
        if self._ctx is None:
            raise RuntimeError("call `await instance.start()` first")
        return self._ctx


def _family(host: str) -> socket.AddressFamily:
    """IPv4 unless the host is an IPv6 literal: one socket, one port, one URL."""
    return socket.AF_INET6 if ":" in host else socket.AF_INET
