"""The project's exceptions: one for rejected credentials, one for bad configuration."""

from __future__ import annotations

from traitlets import TraitError


class TokenError(Exception):
    """A credential was refused.

    `reason` is a stable code in the style of @clerk/backend's TokenVerificationErrorReason,
    safe to log; `detail` explains it for operators. Neither ever contains the token.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class ClerkConfigError(TraitError):
    """Configuration that cannot work; a TraitError so Jupyter stops with the message."""
