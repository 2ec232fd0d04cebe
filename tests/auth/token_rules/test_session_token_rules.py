"""One test per verification rule: each fails if its rule is removed from the verifier."""

from __future__ import annotations

import hashlib
import hmac
import json

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

from jupyter_clerk.auth.keys import PemKey
from jupyter_clerk.auth.tokens import SessionTokenVerifier
from jupyter_clerk.errors import TokenError
from tests.forge import ISSUER, Forge, b64url, segment


async def refused(verifier: SessionTokenVerifier, token: str) -> str:
    with pytest.raises(TokenError) as info:
        await verifier.verify(token)
    assert "eyJ" not in str(info.value)  # a refusal never carries the token
    return info.value.reason


async def test_valid_session_token_is_accepted(verifier, forge, clock):
    claims = await verifier.verify(forge.token(forge.claims(clock.now)))
    assert claims.user_id == "user_2aForgedUser"
    assert claims.session_id == "sess_2aForgedSession"
    assert claims.organization is None


# --- algorithm and header --------------------------------------------------------------------


async def test_alg_none_is_refused(verifier, forge, clock):
    token = f"{segment({'alg': 'none', 'typ': 'JWT'})}.{segment(forge.claims(clock.now))}."
    assert await refused(verifier, token) == "token-invalid"


async def test_hs256_signed_with_the_public_key_is_refused(verifier, forge, clock):
    header = segment({"alg": "HS256", "typ": "JWT", "kid": forge.kid})
    payload = segment(forge.claims(clock.now))
    mac = hmac.new(forge.public_pem.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    token = f"{header}.{payload}.{b64url(mac.digest())}"
    assert await refused(verifier, token) == "token-invalid-algorithm"


async def test_es256_is_refused(verifier, forge, clock):
    ec_key = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(forge.claims(clock.now), ec_key, algorithm="ES256", headers={"kid": "k"})
    assert await refused(verifier, token) == "token-invalid-algorithm"


async def test_ps256_with_the_right_rsa_key_is_refused(verifier, forge, clock):
    header = segment(forge.header(alg="PS256"))
    payload = segment(forge.claims(clock.now))
    signature = forge.private_key.sign(
        f"{header}.{payload}".encode(),
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
        hashes.SHA256(),
    )
    token = f"{header}.{payload}.{b64url(signature)}"
    assert await refused(verifier, token) == "token-invalid-algorithm"


async def test_embedded_jwk_header_is_refused(verifier, forge, clock):
    public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(forge.private_key.public_key()))
    token = forge.token(forge.claims(clock.now), forge.header(jwk=public_jwk))
    assert await refused(verifier, token) == "token-invalid"


@pytest.mark.parametrize("name", ["jku", "x5u"])
async def test_key_url_headers_are_refused(verifier, forge, clock, keys, name):
    token = forge.token(forge.claims(clock.now), forge.header(**{name: "http://127.0.0.1:9/k"}))
    assert await refused(verifier, token) == "token-invalid"
    assert keys.lookups == 0


async def test_x5c_header_is_refused(verifier, forge, clock):
    token = forge.token(forge.claims(clock.now), forge.header(x5c=["MIIB"]))
    assert await refused(verifier, token) == "token-invalid"


async def test_crit_header_is_refused(verifier, forge, clock):
    token = forge.token(forge.claims(clock.now), forge.header(crit=["exp"], exp=1))
    assert await refused(verifier, token) == "token-invalid"


async def test_non_jwt_typ_is_refused(verifier, forge, clock):
    token = forge.token(forge.claims(clock.now), forge.header(typ="at+jwt"))
    assert await refused(verifier, token) == "token-invalid"


@pytest.mark.parametrize("cat", ["cl_B7d4PD222AAA", "cl_B7d4PD333AAA", "something"])
async def test_non_session_token_category_is_refused(verifier, forge, clock, cat):
    token = forge.token(forge.claims(clock.now), forge.header(cat=cat))
    assert await refused(verifier, token) == "token-invalid"


@pytest.mark.parametrize("cat", [None, "cl_I7d4PD111III"])
async def test_absent_or_ignore_category_is_accepted(verifier, forge, clock, cat):
    token = forge.token(forge.claims(clock.now), forge.header(cat=cat))
    assert (await verifier.verify(token)).user_id == "user_2aForgedUser"


async def test_token_signed_by_another_key_is_refused(verifier, clock):
    other = Forge()
    assert await refused(verifier, other.token(other.claims(clock.now))) == (
        "token-invalid-signature"
    )


async def test_signature_is_checked_before_claims(verifier, forge, clock):
    expired = forge.token(forge.claims(clock.now, exp=clock.now - 3600))
    header, _, signature = expired.split(".")
    tampered = f"{header}.{segment(forge.claims(clock.now, exp=clock.now - 3600, sub='user_x'))}"
    reason = await refused(verifier, f"{tampered}.{signature}")
    assert reason == "token-invalid-signature"


# --- time claims ------------------------------------------------------------------------------


async def test_missing_exp_is_refused(verifier, forge, clock):
    claims = forge.claims(clock.now)
    del claims["exp"]
    assert await refused(verifier, forge.token(claims)) == "token-invalid"


@pytest.mark.parametrize("exp", ["9999999999", True, None, [1], {"a": 1}])
async def test_non_numeric_exp_is_refused(verifier, forge, clock, exp):
    claims = forge.claims(clock.now)
    claims["exp"] = exp
    assert await refused(verifier, forge.token(claims)) == "token-invalid"


async def test_expired_token_is_refused(verifier, forge, clock):
    token = forge.token(forge.claims(clock.now, exp=clock.now - 6))
    assert await refused(verifier, token) == "token-expired"


async def test_expiry_within_leeway_is_accepted(verifier, forge, clock):
    token = forge.token(forge.claims(clock.now, exp=clock.now - 4))
    assert (await verifier.verify(token)).user_id == "user_2aForgedUser"


async def test_token_before_nbf_is_refused(verifier, forge, clock):
    token = forge.token(forge.claims(clock.now, nbf=clock.now + 6, iat=clock.now))
    assert await refused(verifier, token) == "token-not-active-yet"


async def test_nbf_within_leeway_is_accepted(verifier, forge, clock):
    token = forge.token(forge.claims(clock.now, nbf=clock.now + 4))
    assert (await verifier.verify(token)).user_id == "user_2aForgedUser"


async def test_iat_in_the_future_is_refused(verifier, forge, clock):
    token = forge.token(forge.claims(clock.now, iat=clock.now + 30, nbf=None))
    assert await refused(verifier, token) == "token-iat-in-the-future"


async def test_missing_iat_is_refused(verifier, forge, clock):
    claims = forge.claims(clock.now)
    del claims["iat"]
    assert await refused(verifier, forge.token(claims)) == "token-invalid"


# --- issuer, party, status, category ----------------------------------------------------------


async def test_token_of_another_instance_is_refused(verifier, forge, clock):
    token = forge.token(forge.claims(clock.now, iss="https://clerk.evil.example"))
    assert await refused(verifier, token) == "token-invalid-issuer"


async def test_unlisted_authorized_party_is_refused(verifier, forge, clock):
    token = forge.token(forge.claims(clock.now, azp="https://evil.example"))
    assert await refused(verifier, token) == "token-invalid-authorized-parties"


async def test_missing_authorized_party_is_refused_when_parties_are_set(verifier, forge, clock):
    claims = forge.claims(clock.now)
    del claims["azp"]
    assert await refused(verifier, forge.token(claims)) == "token-invalid-authorized-parties"


async def test_any_party_is_accepted_when_the_check_is_skipped(keys, forge, clock):
    verifier = SessionTokenVerifier(keys, issuer=ISSUER, authorized_parties=None, clock=clock)
    token = forge.token(forge.claims(clock.now, azp="https://elsewhere.example"))
    assert (await verifier.verify(token)).authorized_party == "https://elsewhere.example"


async def test_pending_session_is_refused(verifier, forge, clock):
    token = forge.token(forge.claims(clock.now, sts="pending"))
    assert await refused(verifier, token) == "session-pending"


async def test_unknown_session_status_is_refused(verifier, forge, clock):
    token = forge.token(forge.claims(clock.now, sts="revoked"))
    assert await refused(verifier, token) == "token-invalid"


async def test_token_without_sid_is_refused_as_a_jwt_template(verifier, forge, clock):
    claims = forge.claims(clock.now)
    del claims["sid"]
    assert await refused(verifier, forge.token(claims)) == "token-invalid"


@pytest.mark.parametrize("version", [3, "2", True, 0])
async def test_unknown_claim_version_is_refused(verifier, forge, clock, version):
    assert await refused(verifier, forge.token(forge.claims(clock.now, v=version))) == (
        "token-invalid"
    )


# --- id shapes --------------------------------------------------------------------------------

BAD_IDS = ["", "user_", "user_../../etc", "user_a/b", "user_a%2fb", "user_a.b", "org_a", 42]


@pytest.mark.parametrize("sub", BAD_IDS)
async def test_malformed_user_id_is_refused(verifier, forge, clock, sub):
    assert await refused(verifier, forge.token(forge.claims(clock.now, sub=sub))) == (
        "token-invalid"
    )


@pytest.mark.parametrize("sid", ["", "sess_", "sess_a/b", "user_abc", None])
async def test_malformed_session_id_is_refused(verifier, forge, clock, sid):
    claims = forge.claims(clock.now)
    claims["sid"] = sid
    assert await refused(verifier, forge.token(claims)) == "token-invalid"


@pytest.mark.parametrize("org_id", ["", "org_", "org_../x", "org_a\\b", "user_abc", 7])
async def test_malformed_organization_id_is_refused_in_both_shapes(verifier, forge, clock, org_id):
    v2 = forge.claims(clock.now, o={"id": org_id, "rol": "admin"})
    v1 = forge.claims(clock.now, v=None, org_id=org_id, org_role="org:admin")
    assert await refused(verifier, forge.token(v2)) == "token-invalid"
    assert await refused(verifier, forge.token(v1)) == "token-invalid"


# --- size and JSON ----------------------------------------------------------------------------


async def test_oversized_token_is_refused_before_parsing(verifier, forge, clock, keys):
    token = forge.token(forge.claims(clock.now, padding="x" * 9000))
    assert await refused(verifier, token) == "token-invalid"
    assert keys.lookups == 0


async def test_duplicate_key_in_header_is_refused(verifier, forge, clock):
    header = '{"alg":"RS256","kid":"ins_forgeKey1","typ":"JWT","alg":"RS256"}'
    assert await refused(verifier, forge.token(forge.claims(clock.now), header)) == (
        "token-invalid"
    )


async def test_duplicate_key_in_payload_is_refused(verifier, forge, clock):
    claims = json.dumps(forge.claims(clock.now))[:-1] + ', "sub": "user_2aSomeoneElse"}'
    assert await refused(verifier, forge.token(claims)) == "token-invalid"


@pytest.mark.parametrize(
    "token",
    ["", "a", "a.b", "a.b.c.d", "a..c", "é.b.c", "a.b.c d", "eyJ.eyJ.sig", None, 123],
)
async def test_malformed_token_text_is_refused(verifier, token):
    assert await refused(verifier, token) == "token-invalid"


async def test_non_object_payload_is_refused(verifier, forge):
    assert await refused(verifier, forge.token("[1, 2]")) == "token-invalid"


async def test_nan_in_payload_is_refused(verifier, forge, clock):
    claims = json.dumps(forge.claims(clock.now)).replace(
        f'"exp": {int(clock.now) + 60}', '"exp": NaN'
    )
    assert await refused(verifier, forge.token(claims)) == "token-invalid"


async def test_weak_rsa_key_source_is_rejected(forge):
    weak = Forge(key_size=1024)
    with pytest.raises(ValueError):
        PemKey(weak.public_pem)
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with pytest.raises(ValueError):
        PemKey(ec_pem)
