"""Hand-made JWTs for tests that need tokens no well-behaved library would produce."""

from __future__ import annotations

import json
import time
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from jupyter_clerk.devinstance.signing import SigningKey, b64url

ISSUER = "https://clerk.example.com"
PARTY = "https://notebooks.example.com"
SESSION_CAT = "cl_B7d4PD111AAA"


def segment(value: dict[str, Any] | str) -> str:
    raw = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return b64url(raw.encode("utf-8"))


class Forge:
    """An RSA key that signs whatever header and payload a test hands it."""

    def __init__(self, key_size: int = 2048) -> None:
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
        self.kid = "ins_forgeKey1"

    @property
    def public_pem(self) -> str:
        return SigningKey(self.kid, self.private_key).public_pem()

    def header(self, **overrides: Any) -> dict[str, Any]:
        header = {"alg": "RS256", "kid": self.kid, "typ": "JWT", "cat": SESSION_CAT}
        header.update(overrides)
        return {k: v for k, v in header.items() if v is not None}

    @staticmethod
    def claims(now: float | None = None, **overrides: Any) -> dict[str, Any]:
        now = int(time.time() if now is None else now)
        claims: dict[str, Any] = {
            "azp": PARTY,
            "exp": now + 60,
            "fva": [0, -1],
            "iat": now,
            "iss": ISSUER,
            "nbf": now - 5,
            "sid": "sess_2aForgedSession",
            "sub": "user_2aForgedUser",
            "v": 2,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def sign_segments(self, header_segment: str, payload_segment: str) -> str:
        signing_input = f"{header_segment}.{payload_segment}".encode("ascii")
        signature = self.private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input.decode('ascii')}.{b64url(signature)}"

    def token(
        self,
        claims: dict[str, Any] | str | None = None,
        header: dict[str, Any] | str | None = None,
    ) -> str:
        return self.sign_segments(
            segment(self.header() if header is None else header),
            segment(self.claims() if claims is None else claims),
        )

    def token_from_bytes(self, header: bytes, payload: bytes) -> str:
        """Signs exact bytes: for encodings no JSON library writes (BOM, UTF-16, bad UTF-8)."""
        return self.sign_segments(b64url(header), b64url(payload))
