"""The verified-token cache: keyed by the whole token, bounded, never past exp + leeway."""

from __future__ import annotations

import pytest

from jupyter_clerk.auth.tokens import SessionTokenVerifier, token_digest
from jupyter_clerk.errors import TokenError
from tests.forge import ISSUER, PARTY


async def test_second_verification_of_a_token_uses_the_cache(verifier, forge, clock, keys):
    token = forge.token(forge.claims(clock.now))
    first = await verifier.verify(token)
    assert await verifier.verify(token) is first
    assert keys.lookups == 1


async def test_cached_token_is_refused_after_exp_plus_leeway(verifier, forge, clock):
    token = forge.token(forge.claims(clock.now, exp=clock.now + 60))
    await verifier.verify(token)
    clock.now += 60 + 5
    with pytest.raises(TokenError) as info:
        await verifier.verify(token)
    assert info.value.reason == "token-expired"
    assert len(verifier.cache) == 0


async def test_cache_is_bounded(keys, forge, clock):
    verifier = SessionTokenVerifier(
        keys, issuer=ISSUER, authorized_parties=[PARTY], cache_size=3, clock=clock
    )
    for n in range(10):
        await verifier.verify(forge.token(forge.claims(clock.now, sid=f"sess_{n}a")))
    assert len(verifier.cache) == 3


async def test_tokens_sharing_every_claim_but_one_do_not_share_an_entry(verifier, forge, clock):
    ada = forge.token(forge.claims(clock.now, sub="user_2aAda"))
    grace = forge.token(forge.claims(clock.now, sub="user_2aGrace"))
    assert (await verifier.verify(ada)).user_id == "user_2aAda"
    assert (await verifier.verify(grace)).user_id == "user_2aGrace"
    assert (await verifier.verify(ada)).user_id == "user_2aAda"


async def test_refused_tokens_are_not_cached(verifier, forge, clock):
    token = forge.token(forge.claims(clock.now, iss="https://clerk.evil.example"))
    with pytest.raises(TokenError):
        await verifier.verify(token)
    assert verifier.cache.get(token_digest(token)) is None


async def test_discard_drops_a_revoked_sessions_entries(verifier, forge, clock):
    token = forge.token(forge.claims(clock.now))
    await verifier.verify(token)
    assert verifier.cache.discard_where(lambda c: c.session_id == "sess_2aForgedSession") == 1
    assert verifier.cache.get(token_digest(token)) is None
