"""The benches' parts that need no server, run tiny: a bench that no longer runs (a token the
grammar now refuses, an API that moved) fails here, not silently on the next measuring day.
No timings are asserted."""

from __future__ import annotations

from bench import isolation, scale, verify, workspaces
from jupyter_clerk.auth.claims import parse_session_claims
from jupyter_clerk.auth.keys import PemKey
from jupyter_clerk.auth.tokens import SessionTokenVerifier
from jupyter_clerk.devinstance.data import parse_data
from jupyter_clerk.devinstance.signing import SigningKey


async def test_every_benchs_token_is_a_session_token_the_servers_accept():
    """Verified as the bench servers verify them (bench.http.clerk_environment)."""
    key = SigningKey.generate()
    verifier = SessionTokenVerifier(
        PemKey(key.public_pem()), issuer=verify.ISSUER, authorized_parties=[verify.PARTY]
    )
    header = {"alg": "RS256", "kid": key.kid, "typ": "JWT"}
    tokens = {
        "scale.token_for": scale.token_for(key, 7),
        "scale.payload (organization)": key.sign(header, scale.payload(7)),
        "verify.make_token": verify.make_token(key),
        "isolation.headers": isolation.headers(key, isolation.ORGS["A"])["Authorization"][7:],
    }
    for name, token in tokens.items():
        claims = await verifier.verify(token)
        assert claims.user_id, name
    organization = parse_session_claims(scale.payload(7)).organization
    assert organization is not None and organization.permissions


def test_the_in_process_scale_bench_runs(capsys):
    sizes = scale.InProcessSizes(
        ended_sessions=(5,), cached_tokens=20, webhooks=5, cache_entries=(20,), people=3
    )
    scale.run_in_process(sizes)
    printed = capsys.readouterr().out
    assert "5 sessions" in printed and "calls/person/h" in printed


def test_the_workspaces_benchs_directory_loads():
    data = parse_data(workspaces.directory(3, 2))
    assert len(data.memberships) == 6
