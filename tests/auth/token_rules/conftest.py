from __future__ import annotations

import time

import pytest

from jupyter_clerk.auth.keys import PemKey
from jupyter_clerk.auth.tokens import SessionTokenVerifier
from tests.forge import ISSUER, PARTY, Forge


class FakeClock:
    """Whole seconds, as Clerk writes `exp`, `iat` and `nbf`: tokens built from it stay valid."""

    def __init__(self) -> None:
        self.now = int(time.time())

    def __call__(self) -> float:
        return self.now


class CountingKeys:
    """A key source that counts lookups, to prove a check ran before any key was fetched."""

    def __init__(self, forge: Forge) -> None:
        self._key = PemKey(forge.public_pem)
        self.lookups = 0

    async def get_key(self, kid):
        self.lookups += 1
        return await self._key.get_key(kid)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def keys(forge: Forge) -> CountingKeys:
    return CountingKeys(forge)


@pytest.fixture
def verifier(keys: CountingKeys, clock: FakeClock) -> SessionTokenVerifier:
    return SessionTokenVerifier(keys, issuer=ISSUER, authorized_parties=[PARTY], clock=clock)
