"""The text layer of a compact JWS: base64url and JSON, each with exactly one reading.

Python's decoders are lenient where the specs are not: `base64` accepts non-zero padding bits
(many spellings of the same bytes), and `json.loads` guesses UTF-16/32, strips a UTF-8 BOM,
lets encoded surrogates through (`surrogatepass`), turns `1e400` into infinity and keeps lone
`\\ud800` escapes. A token is signed as text, so every such leniency is a second way to read
signed bytes; here each one is refused instead.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from typing import Any

from ..errors import TokenError

# A JSON `\uD800`-`\uDFFF` escape: only then can a parsed string hold a lone surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


def _invalid(detail: str) -> TokenError:
    return TokenError("token-invalid", detail)


def b64url_decode(segment: str) -> bytes:
    """Unpadded base64url in its one canonical spelling (RFC 7515 §2, RFC 4648 §3.5)."""
    if len(segment) % 4 == 1:
        raise _invalid("token segment is not base64url")
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise _invalid("token segment is not base64url") from None
    if base64.urlsafe_b64encode(raw).rstrip(b"=") != segment.encode("ascii", "replace"):
        raise _invalid("token segment is not canonical base64url")
    return raw


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _invalid("duplicate key in token JSON")
        result[key] = value
    return result


def _reject_constant(name: str) -> None:
    raise _invalid(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _invalid("number out of range in token JSON")
    return value


def _has_lone_surrogate(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        return True
    return False


def strict_json(segment: bytes) -> dict[str, Any]:
    """One JSON object in strict UTF-8 (RFC 8259 §8.1): no BOM, nothing after the value."""
    try:
        text = segment.decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid("token segment is not UTF-8") from None
    if text.startswith("\ufeff"):
        raise _invalid("token segment starts with a byte-order mark")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
        )
    except (ValueError, RecursionError):
        raise _invalid("token segment is not JSON") from None
    if not isinstance(value, dict):
        raise _invalid("token segment is not a JSON object")
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        raise _invalid("token JSON has a lone surrogate escape")
    return value
