"""Per-token verification cost: this project (cached, uncached) vs Clerk's SDK vs raw PyJWT.

All measured in one run on the same token and key, in interleaved rounds, printed as the
median of per-round ratios.
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
ROUNDS = 15


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


def batch(call: Callable[[], object], n: int) -> Callable[[], float]:
    """A timed batch of n calls, returning seconds per call."""

    def run() -> float:
        start = time.perf_counter()
        for _ in range(n):
            call()
        return (time.perf_counter() - start) / n

    return run


def async_batch(verifier: SessionTokenVerifier, token: str, n: int) -> Callable[[], float]:
    loop = asyncio.new_event_loop()

    async def calls() -> float:
        start = time.perf_counter()
        for _ in range(n):
            await verifier.verify(token)
        return (time.perf_counter() - start) / n

    return lambda: loop.run_until_complete(calls())


def interleaved(batches: dict[str, Callable[[], float]]) -> dict[str, list[float]]:
    """Every round times each verifier once, so a ratio compares batches under the same load
    (the machine is shared: load that shifts between phases would otherwise skew ratios)."""
    samples: dict[str, list[float]] = {name: [] for name in batches}
    for _ in range(ROUNDS):
        for name, run in batches.items():
            samples[name].append(run())
    return samples


def median_ratio(numerators: list[float], denominators: list[float]) -> float:
    return statistics.median(n / d for n, d in zip(numerators, denominators, strict=True))


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

    samples = interleaved(
        {
            "jupyter-clerk, cached": async_batch(cached, token, 5_000),
            "jupyter-clerk, uncached": async_batch(uncached, token, 300),
            "raw PyJWT decode (key preloaded)": batch(
                lambda: jwt.decode(
                    token, public_key, algorithms=["RS256"], issuer=ISSUER, leeway=5
                ),
                300,
            ),
            "Clerk SDK authenticate_request (jwt_key)": batch(
                lambda: authenticate_request(request, options), 150
            ),
        }
    )
    width = max(map(len, samples))
    print(f"{'verifier':<{width}}  µs/token (median of {ROUNDS} interleaved rounds)")
    for name, seconds in samples.items():
        print(f"{name:<{width}}  {statistics.median(seconds) * 1e6:9.2f}")
    sdk = samples["Clerk SDK authenticate_request (jwt_key)"]
    pyjwt = samples["raw PyJWT decode (key preloaded)"]
    speedup = median_ratio(sdk, samples["jupyter-clerk, cached"])
    overhead = median_ratio(samples["jupyter-clerk, uncached"], pyjwt)
    print()
    print(f"cached vs Clerk SDK:     {speedup:8.1f}× faster   (target ≥ 50×)")
    print(f"uncached vs raw PyJWT:   {overhead:8.2f}× the cost (target ≤ 1.2×)")


if __name__ == "__main__":
    main()
