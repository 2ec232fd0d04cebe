"""The instance's RS256 key ring: current signing key, published keys, rotation, JWS signing.

Signing is done here rather than through PyJWT so that tests can forge any header (a missing
`kid`, a foreign `alg`) while still signing with the instance's real key.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .ids import new_id


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_uint(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True)
class SigningKey:
    """One RSA 2048 key and its Clerk-shaped `kid` (`ins_…`)."""

    kid: str
    private_key: rsa.RSAPrivateKey = field(repr=False)

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(new_id("ins"), rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def public_jwk(self) -> dict[str, str]:
        numbers = self.private_key.public_key().public_numbers()
        return {
            "use": "sig",
            "kty": "RSA",
            "kid": self.kid,
            "alg": "RS256",
            "n": _b64url_uint(numbers.n),
            "e": _b64url_uint(numbers.e),
        }

    def public_pem(self) -> str:
        return (
            self.private_key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )

    def sign(self, header: dict[str, Any], payload: dict[str, Any]) -> str:
        """A compact JWS over exactly `header` and `payload`, signed RS256."""
        signing_input = ".".join(
            b64url(json.dumps(part, separators=(",", ":")).encode("utf-8"))
            for part in (header, payload)
        )
        signature = self.private_key.sign(
            signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256()
        )
        return f"{signing_input}.{b64url(signature)}"


class KeyRing:
    """Signs with the newest key; keeps older keys published until explicitly retired.

    That mirrors a real rotation: tokens signed just before the rotation must still verify
    while verifiers refetch the JWKS.
    """

    def __init__(self) -> None:
        self._keys: list[SigningKey] = [SigningKey.generate()]

    @property
    def current(self) -> SigningKey:
        return self._keys[-1]

    @property
    def published(self) -> tuple[SigningKey, ...]:
        return tuple(self._keys)

    def rotate(self) -> SigningKey:
        """Start signing with a new key; the previous ones stay in the JWKS."""
        self._keys.append(SigningKey.generate())
        return self.current

    def retire_old_keys(self) -> None:
        """Stop publishing every key but the current one."""
        self._keys = [self.current]

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [key.public_jwk() for key in reversed(self._keys)]}
