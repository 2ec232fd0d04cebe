"""Key sources: one fetch for many first requests, bounded refetches, outages fail closed."""

from __future__ import annotations

import asyncio
import json

import jwt
import pytest

from jupyter_clerk.auth.keys import JwksKeys, parse_jwks
from jupyter_clerk.errors import TokenError
from tests.forge import Forge


def jwks_of(*forges: Forge) -> bytes:
    keys = []
    for f in forges:
        entry = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(f.private_key.public_key()))
        entry.update(kid=f.kid, use="sig", alg="RS256")
        keys.append(entry)
    return json.dumps({"keys": keys}).encode()


class FakeJwksEndpoint:
    def __init__(self, body: bytes) -> None:
        self.body = body
        self.calls = 0
        self.failing = False

    async def __call__(self) -> bytes:
        self.calls += 1
        await asyncio.sleep(0.01)
        if self.failing:
            raise OSError("connection refused")
        return self.body


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def forge_b() -> Forge:
    other = Forge()
    other.kid = "ins_rotatedKey2"
    return other


async def test_concurrent_first_requests_cause_one_fetch(forge):
    endpoint = FakeJwksEndpoint(jwks_of(forge))
    keys = JwksKeys(endpoint, clock=Clock())
    results = await asyncio.gather(*(keys.get_key(forge.kid) for _ in range(50)))
    assert endpoint.calls == 1
    assert all(r.public_numbers() == results[0].public_numbers() for r in results)


async def test_unknown_kid_refetches_at_most_once_per_cooldown(forge, forge_b):
    endpoint = FakeJwksEndpoint(jwks_of(forge))
    clock = Clock()
    keys = JwksKeys(endpoint, cooldown=60, clock=clock)
    await keys.get_key(forge.kid)
    for _ in range(5):
        with pytest.raises(TokenError) as info:
            await keys.get_key("ins_unknownKid")
        assert info.value.reason == "jwk-kid-mismatch"
    assert endpoint.calls == 1  # the first load already spent this cooldown's fetch
    endpoint.body = jwks_of(forge, forge_b)
    clock.now += 61
    assert await keys.get_key(forge_b.kid)
    assert endpoint.calls == 2


async def test_outage_keeps_known_keys_and_refuses_unknown_ones(forge, forge_b):
    endpoint = FakeJwksEndpoint(jwks_of(forge))
    clock = Clock()
    keys = JwksKeys(endpoint, cooldown=60, clock=clock)
    await keys.get_key(forge.kid)
    endpoint.failing = True
    clock.now += 61
    with pytest.raises(TokenError):
        await keys.get_key(forge_b.kid)
    assert await keys.get_key(forge.kid)


async def test_first_fetch_failure_fails_closed(forge):
    endpoint = FakeJwksEndpoint(b"")
    endpoint.failing = True
    keys = JwksKeys(endpoint, clock=Clock())
    with pytest.raises(TokenError):
        await keys.get_key(forge.kid)


async def test_token_without_kid_is_refused_by_a_jwks(forge):
    keys = JwksKeys(FakeJwksEndpoint(jwks_of(forge)), clock=Clock())
    with pytest.raises(TokenError):
        await keys.get_key(None)


def test_jwks_keeps_only_rs256_signing_keys(forge):
    document = json.loads(jwks_of(forge))
    good = document["keys"][0]
    document["keys"] += [
        {**good, "kid": "enc", "use": "enc"},
        {**good, "kid": "ps", "alg": "PS256"},
        {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
        {**good, "kid": ""},
        "junk",
    ]
    assert set(parse_jwks(json.dumps(document).encode())) == {forge.kid}


def test_jwks_ignores_weak_rsa_keys():
    weak = Forge(key_size=1024)
    assert parse_jwks(jwks_of(weak)) == {}


@pytest.mark.parametrize("body", [b"[]", b"{}", b'{"keys": 1}', b"not json"])
def test_malformed_jwks_is_an_error(body):
    with pytest.raises(ValueError):
        parse_jwks(body)
