"""The JOSE header of a Clerk session token: every registered parameter has one meaning here.

Clerk signs `{"alg": "RS256", "cat": ..., "kid": ..., "typ": "JWT"}`. Each parameter in the
IANA "JSON Web Signature and Encryption Header Parameters" registry (RFC 7515, 7516, 7519,
7797, 8225, 8555, 9321) is either refused outright, because it would change how the payload
is read or which key checks it, or type-checked even though nothing here acts on it. Names
outside the registry stay allowed, whatever their type: they carry no meaning to anyone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import TokenError
from .encoding import b64url_decode

ALGORITHM = "RS256"
# Header `cat` values that mark a session token; absent `cat` predates Clerk's categories.
SESSION_CATEGORIES = frozenset({"cl_B7d4PD111AAA", "cl_I7d4PD111III"})

# Refused whatever their value, with the reason each would give the token another reading.
REFUSED_PARAMETERS: Mapping[str, str] = {
    "jku": "lets the token name its own key",
    "jwk": "lets the token carry its own key",
    "x5u": "lets the token name its own certificate",
    "x5c": "lets the token carry its own certificate",
    "crit": "adds processing rules this verifier does not apply",
    "cty": "declares nested or typed content",
    "b64": "changes the payload encoding (RFC 7797)",
    "zip": "compresses the payload",
    "enc": "belongs to an encrypted token (JWE)",
    "epk": "belongs to an encrypted token (JWE)",
    "apu": "belongs to an encrypted token (JWE)",
    "apv": "belongs to an encrypted token (JWE)",
    "iv": "belongs to an encrypted token (JWE)",
    "tag": "belongs to an encrypted token (JWE)",
    "p2s": "belongs to an encrypted token (JWE)",
    "p2c": "belongs to an encrypted token (JWE)",
    "ppt": "declares a PASSporT extension claim set (RFC 8225)",
    "iss": "gives a second reading of a payload claim (RFC 7519 §5.3)",
    "sub": "gives a second reading of a payload claim (RFC 7519 §5.3)",
    "aud": "gives a second reading of a payload claim (RFC 7519 §5.3)",
}

_KID = re.compile(r"[\x21-\x7e]{1,256}")


def _is_string(value: Any) -> bool:
    return isinstance(value, str)


def _is_kid(value: Any) -> bool:
    return isinstance(value, str) and _KID.fullmatch(value) is not None


def _is_thumbprint(size: int) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        if not isinstance(value, str) or not value.isascii():
            return False
        try:
            return len(b64url_decode(value)) == size
        except TokenError:
            return False

    return check


def _is_string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


# Registered but informational: nothing here acts on them, yet a wrong type is malformed.
TYPED_PARAMETERS: Mapping[str, Callable[[Any], bool]] = {
    "kid": _is_kid,
    "x5t": _is_thumbprint(20),
    "x5t#S256": _is_thumbprint(32),
    "url": _is_string,
    "nonce": _is_string,
    "svt": _is_string_list,
}


def check_header(header: Mapping[str, Any]) -> None:
    """Refuses any header Clerk would not have written for a session token."""
    alg = header.get("alg")
    if not isinstance(alg, str) or alg != ALGORITHM:
        raise TokenError("token-invalid-algorithm", f"algorithm must be {ALGORITHM}")
    for name in header:
        if name in REFUSED_PARAMETERS:
            raise TokenError(
                "token-invalid", f"header {name} is not accepted: it {REFUSED_PARAMETERS[name]}"
            )
        check = TYPED_PARAMETERS.get(name)
        if check is not None and not check(header[name]):
            raise TokenError("token-invalid", f"header {name} has the wrong type or shape")
    if "typ" in header and header["typ"] != "JWT":
        raise TokenError("token-invalid", "header typ must be JWT")
    cat = header.get("cat")
    if "cat" in header and not (isinstance(cat, str) and cat in SESSION_CATEGORIES):
        raise TokenError("token-invalid", "the token's category is not a session token")
