"""Per-token verification cost: this project (cached, uncached) vs Clerk's SDK vs raw PyJWT.

All measured in one run on the same token and key, printed as ratios.
Targets: cached ≥ 50× faster than Clerk's `authenticate_request`; uncached ≤ 1.2× raw PyJWT.

    .venv/bin/python -m bench.verify
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable

import httpx
import jwt
from clerk_backend_api.security import authenticate_request
from clerk_backend_api.security.types import AuthenticateRequestOptions

from jupyter_clerk.auth.keys import PemKey
from jupyter_clerk.auth.tokens import SessionTokenVerifier
from jupyter_clerk.devinstance.signing import SigningKey

ISSUER = "https://clerk.example.com"
PARTY = "https://notebooks.example.com"
ROUNDS = 7


def make_token(key: SigningKey, *, user: str = "user_2aBenchUser", org: str = "org_2aBench") -> str:
    now = int(time.time())
    claims = {
        "azp": PARTY,
        "exp": now + 3600,
        "fva": [0, -1],
        "iat": now,
        "iss": ISSUER,
        "nbf": now - 5,
        "sid": "sess_2aBenchSession",
        "sub": user,
        "v": 2,
        "fea": "o:jupyter",
        "o": {"id": org, "rol": "admin", "slg": "bench", "per": "read,write", "fpm": "3"},
    }
    return key.sign(
        {"alg": "RS256", "kid": key.kid, "typ": "JWT", "cat": "cl_B7d4PD111AAA"}, claims
    )


def per_call_seconds(call: Callable[[], object], n: int) -> float:
    """Median over rounds of the mean time of one call."""
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(n):
            call()
        samples.append((time.perf_counter() - start) / n)
    return statistics.median(samples)


def async_per_call_seconds(verifier: SessionTokenVerifier, token: str, n: int) -> float:
    async def rounds() -> list[float]:
        samples = []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            for _ in range(n):
                await verifier.verify(token)
            samples.append((time.perf_counter() - start) / n)
        return samples

    return statistics.median(asyncio.run(rounds()))


def main() -> None:
    key = SigningKey.generate()
    pem = key.public_pem()
    token = make_token(key)
    public_key = key.private_key.public_key()

    uncached = SessionTokenVerifier(
        PemKey(pem), issuer=ISSUER, authorized_parties=[PARTY], cache_size=0
    )
    cached = SessionTokenVerifier(PemKey(pem), issuer=ISSUER, authorized_parties=[PARTY])
    options = AuthenticateRequestOptions(jwt_key=pem, authorized_parties=[PARTY])
    request = httpx.Request(
        "GET", "https://x.example/api", headers={"Authorization": f"Bearer {token}"}
    )
    assert authenticate_request(request, options).is_signed_in

    results = {
        "jupyter-clerk, cached": async_per_call_seconds(cached, token, 20_000),
        "jupyter-clerk, uncached": async_per_call_seconds(uncached, token, 1_000),
        "raw PyJWT decode (key preloaded)": per_call_seconds(
            lambda: jwt.decode(token, public_key, algorithms=["RS256"], issuer=ISSUER, leeway=5),
            1_000,
        ),
        "Clerk SDK authenticate_request (jwt_key)": per_call_seconds(
            lambda: authenticate_request(request, options), 500
        ),
    }
    width = max(map(len, results))
    print(f"{'verifier':<{width}}  µs/token")
    for name, seconds in results.items():
        print(f"{name:<{width}}  {seconds * 1e6:9.2f}")
    sdk = results["Clerk SDK authenticate_request (jwt_key)"]
    pyjwt = results["raw PyJWT decode (key preloaded)"]
    speedup = sdk / results["jupyter-clerk, cached"]
    overhead = results["jupyter-clerk, uncached"] / pyjwt
    print()
    print(f"cached vs Clerk SDK:     {speedup:8.1f}× faster   (target ≥ 50×)")
    print(f"uncached vs raw PyJWT:   {overhead:8.2f}× the cost (target ≤ 1.2×)")


if __name__ == "__main__":
    main()
