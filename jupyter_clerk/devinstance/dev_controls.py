"""Development controls, behind the secret key: things a real Clerk instance does on its own
schedule (key rotation) that tests and demos need to trigger on demand."""

from __future__ import annotations

from .base import BackendAPIHandler


class RotateKeysHandler(BackendAPIHandler):
    """POST /dev/rotate-keys: sign with a new key; older keys stay published."""

    def post(self) -> None:
        self.write_json({"kid": self.ctx.keyring.rotate().kid, **self.ctx.keyring.jwks()})


class RetireKeysHandler(BackendAPIHandler):
    """POST /dev/retire-keys: publish only the current signing key."""

    def post(self) -> None:
        self.ctx.keyring.retire_old_keys()
        self.write_json(self.ctx.keyring.jwks())
