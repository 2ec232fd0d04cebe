"""Seed 001: missing or odd claims must never make two identities share a cache entry.

Every cache of a credential is keyed by a digest of the whole credential (or by ids that were
validated first), so whatever claims are absent, empty, null or "<nil>", a token only ever
yields its own identity, however many other tokens went through the same cache before it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_clerk.auth.keys import PemKey
from jupyter_clerk.auth.tokens import SessionTokenVerifier, token_digest
from jupyter_clerk.clerk_api.client import BackendAPI
from jupyter_clerk.clerk_api.client_tokens import ClientTokenResolver
from jupyter_clerk.errors import TokenError
from tests.devinstance.helpers import ADA, ENGINES, GRACE, LINUS, PARTNERS
from tests.forge import ISSUER, PARTY, Forge

ABSENT = object()
ODD = st.sampled_from([ABSENT, None, "", "<nil>", "null", "undefined", "0", 0, False, [], {}])


def clerk_ids(prefix: str) -> st.SearchStrategy[str]:
    return st.from_regex(rf"{prefix}_[A-Za-z0-9]{{1,6}}", fullmatch=True)


ORG = st.one_of(
    ODD,
    st.fixed_dictionaries({"id": clerk_ids("org"), "rol": st.sampled_from(["admin", "member"])}),
    st.fixed_dictionaries({"id": ODD, "rol": st.just("admin")}),
)
CLAIMS = st.fixed_dictionaries(
    {
        "sub": st.one_of(clerk_ids("user"), ODD),
        "sid": st.one_of(clerk_ids("sess"), ODD),
        "o": ORG,
        "org_id": st.one_of(ODD, clerk_ids("org")),
        "v": st.sampled_from([1, 2, ABSENT]),
    }
)


def present(values: dict[str, Any]) -> dict[str, Any]:
    """The claims without the absent ones, nested objects included."""
    return {
        name: present(value) if isinstance(value, dict) else value
        for name, value in values.items()
        if value is not ABSENT
    }


def payload(varied: dict[str, Any]) -> dict[str, Any]:
    claims = Forge.claims()
    for name in varied:
        claims.pop(name, None)
    return {**claims, **present(varied)}


def identity(claims: dict[str, Any]) -> tuple[Any, ...]:
    org = claims.get("o") if claims.get("v") == 2 else claims.get("org_id")
    return (repr(claims.get("sub")), repr(claims.get("sid")), repr(org))


async def outcome(verifier: SessionTokenVerifier, token: str) -> tuple[Any, ...] | str:
    try:
        claims = await verifier.verify(token)
    except TokenError as exc:
        return exc.reason
    org = claims.organization.id if claims.organization else None
    return (claims.user_id, claims.session_id, org)


FORGE = Forge()
VERIFIER = SessionTokenVerifier(PemKey(FORGE.public_pem), issuer=ISSUER, authorized_parties=[PARTY])


@settings(max_examples=300, deadline=None)
@given(first=CLAIMS, second=CLAIMS)
def test_two_tokens_never_share_a_verified_cache_entry(first, second):
    """One verifier (and cache) across every example: collisions across examples count too."""
    claims_a, claims_b = payload(first), payload(second)
    token_a, token_b = FORGE.token(claims_a), FORGE.token(claims_b)
    loop = asyncio.new_event_loop()
    try:
        result_a = loop.run_until_complete(outcome(VERIFIER, token_a))
        result_b = loop.run_until_complete(outcome(VERIFIER, token_b))
        again_a = loop.run_until_complete(outcome(VERIFIER, token_a))
    finally:
        loop.close()
    assert again_a == result_a
    for claims, result in ((claims_a, result_a), (claims_b, result_b)):
        if isinstance(result, tuple):  # accepted: exactly the token's own, valid identity
            assert (result[0], result[1]) == (claims["sub"], claims["sid"])
    if token_a != token_b:
        assert token_digest(token_a) != token_digest(token_b)
        if identity(claims_a) != identity(claims_b) and isinstance(result_a, tuple):
            assert result_a != result_b


MEMBERSHIPS = {ADA: [ENGINES, PARTNERS, None], GRACE: [PARTNERS, None], LINUS: [None]}
CLIENT_CASE = st.one_of(
    st.sampled_from([(user, org) for user, orgs in MEMBERSHIPS.items() for org in orgs]),
    st.fixed_dictionaries({"id": st.one_of(ODD, clerk_ids("client")), "rotating_token": ODD}),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cases=st.lists(CLIENT_CASE, min_size=1, max_size=6))
def test_client_tokens_only_ever_resolve_to_their_own_session(
    clerk_instance, jp_asyncio_loop, cases
):
    api = BackendAPI(clerk_instance.api_url, clerk_instance.secret_key, timeout=5)
    resolver = ClientTokenResolver(api.verify_client, verify_rate=1000, verify_burst=1000)
    key = clerk_instance.keyring.current
    expected: list[tuple[str, str | None]] = []
    for case in cases:
        if isinstance(case, tuple):
            session = clerk_instance.create_session(*case)
            tokens_expect = (clerk_instance.client_token(session.client_id), session.id)
        else:
            odd_token = key.sign({"alg": "RS256", "kid": key.kid}, present(case))
            tokens_expect = (odd_token, None)
        expected.append(tokens_expect)

    async def resolve_all() -> list[str | None]:
        results = []
        for token, _ in expected + expected:  # twice: the second pass is served by the cache
            try:
                results.append((await resolver.resolve(token)).id)
            except TokenError:
                results.append(None)
        return results

    results = jp_asyncio_loop.run_until_complete(resolve_all())
    assert results == [sid for _, sid in expected] * 2
