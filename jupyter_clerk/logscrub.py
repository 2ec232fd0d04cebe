"""Keeps credentials out of every log line, whatever logged them.

Jupyter scrubs `token=` in its access log only; tornado, extensions and tracebacks do not.
Scrubbing happens where records are made, so no logger, handler or formatter is missed.
"""

from __future__ import annotations

import logging
import re

_PATTERNS = (
    # JWTs (header always starts with base64 of '{"').
    (re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"), "[redacted-jwt]"),
    # Credentials in query strings and cookies, encoded or not.
    (
        re.compile(
            r"(?i)\b(token|ticket|__clerk_db_jwt|__session|__client|__client_uat)"
            r"(=|%3D)[^&\s;\"']+"
        ),
        r"\1\2[redacted]",
    ),
    (re.compile(r"(?i)\b(bearer)\s+[^\s\"',;]+"), r"\1 [redacted]"),
    (re.compile(r"\b(sk|whsec)_(test_|live_)?[A-Za-z0-9+/=_-]{8,}"), r"\1_[redacted]"),
)


def scrub(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _scrub_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        message = str(record.msg)
    record.msg, record.args = scrub(message), ()
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = scrub(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)


def install() -> None:
    """Scrub every log record as it is made, whichever logger or handler it goes to."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "scrubs_credentials", False):
        return

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _scrub_record(record)
        return record

    factory.scrubs_credentials = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
