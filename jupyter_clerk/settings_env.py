"""Reading CLERK_* environment variables, the way Clerk's SDKs are configured.

One parser for every setting, so "0", "false", "no" and "off" mean the same everywhere; one
way of naming a setting in start-up errors, so each names both the trait and its variable.
"""

from __future__ import annotations

import os

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def env_str(name: str, fallback: str = "") -> str:
    """Trimmed: a key pasted with a trailing space or newline still works."""
    return os.environ.get(name, "").strip() or fallback


def env_flag(name: str, default: bool) -> bool:
    """A yes/no setting; anything unrecognised keeps the default rather than guessing."""
    value = os.environ.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return default


def env_list(name: str) -> list[str]:
    """A comma-separated list, blanks dropped."""
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    """A whole number; a malformed one stops the server (a limit must not be guessed)."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a whole number") from None


def describe_setting(section: str, trait: str, variable: str | None) -> str:
    """How an operator sets a trait, for error messages: the trait and its variable."""
    where = f"env {variable}" if variable else "no environment variable; set it in config"
    return f"c.{section}.{trait} ({where})"
