"""Session tokens: Clerk's v2 header and claims, the permission packing, and forging hooks."""

import time

import jwt
import pytest

from jupyter_clerk.devinstance import DevInstance, encode_org_permissions
from jupyter_clerk.devinstance.errors import ClerkAPIError

from .helpers import ADA, ENGINES, GRACE, JUPYTER, LINUS, PARTNERS, VERA


def decode_org_permissions(fea: str, per: str, fpm: str) -> list[str]:
    """An independent port of Clerk's decoder (packages/shared/src/jwtPayloadParser.ts)."""
    features = [part.split(":", 1)[1] for part in fea.split(",") if part.startswith("o:")]
    names = per.split(",")
    granted = []
    for feature, mask in zip(features, fpm.split(","), strict=False):
        bits = int(mask)
        granted += [f"org:{feature}:{name}" for i, name in enumerate(names) if bits >> i & 1]
    return granted


def verify(instance: DevInstance, token: str) -> dict:
    """Verify the way a relying party does: key from the JWKS by kid, RS256 only."""
    header = jwt.get_unverified_header(token)
    jwks = jwt.PyJWKSet.from_dict(instance.keyring.jwks())
    key = next(k for k in jwks.keys if k.key_id == header["kid"])
    return jwt.decode(
        token, key=key, algorithms=["RS256"], issuer=instance.issuer, options={"verify_aud": False}
    )


def test_clerks_documented_permission_example_round_trips() -> None:
    permissions = ["org:dashboard:manage", "org:dashboard:read", "org:teams:read"]
    packed = encode_org_permissions(permissions)
    assert packed == ("o:dashboard,o:teams", "manage,read", "3,2")
    assert decode_org_permissions(*packed) == permissions


def test_system_and_malformed_permissions_stay_out_of_the_token() -> None:
    packed = encode_org_permissions(
        ["org:sys_memberships:manage", "org:jupyter:read", "user:x:y", "org:broken", "org::x"]
    )
    assert packed == ("o:jupyter", "read", "1")


def test_permission_packing_survives_many_names() -> None:
    permissions = [f"org:f{i % 3}:p{i}" for i in range(60)]
    assert sorted(decode_org_permissions(*encode_org_permissions(permissions))) == sorted(
        permissions
    )


async def test_token_header_and_claims_have_clerks_v2_shape(clerk_instance: DevInstance) -> None:
    session = clerk_instance.create_session(ADA, ENGINES)
    token = clerk_instance.session_token(session.id, azp=JUPYTER)
    header = jwt.get_unverified_header(token)
    assert header == {
        "alg": "RS256",
        "cat": "cl_B7d4PD111AAA",
        "kid": clerk_instance.keyring.current.kid,
        "typ": "JWT",
    }
    claims = verify(clerk_instance, token)
    now = int(time.time())
    assert set(claims) == {
        "azp", "exp", "fea", "fva", "iat", "iss", "nbf", "o", "sid", "sts", "sub", "v"
    }  # fmt: skip
    assert claims["iss"] == clerk_instance.issuer == f"https://127.0.0.1:{clerk_instance.port}"
    assert claims["azp"] == JUPYTER
    assert claims["sub"] == ADA and claims["sid"] == session.id
    assert claims["v"] == 2 and claims["sts"] == "active"
    assert claims["fva"] == [0, -1]
    assert abs(claims["iat"] - now) <= 2
    assert claims["exp"] - claims["iat"] == 60
    assert claims["nbf"] <= claims["iat"]
    assert claims["o"] == {
        "id": ENGINES,
        "rol": "admin",
        "slg": "analytical-engines",
        "per": "read,write,execute",
        "fpm": "7",
    }
    assert claims["fea"] == "o:jupyter"


async def test_viewer_token_carries_read_permission_only(clerk_instance: DevInstance) -> None:
    session = clerk_instance.create_session(VERA, ENGINES)
    claims = verify(clerk_instance, clerk_instance.session_token(session.id))
    assert claims["o"]["rol"] == "viewer"
    assert decode_org_permissions(claims["fea"], claims["o"]["per"], claims["o"]["fpm"]) == [
        "org:jupyter:read"
    ]


async def test_personal_token_has_no_organization_claims(clerk_instance: DevInstance) -> None:
    session = clerk_instance.create_session(LINUS)
    claims = verify(clerk_instance, clerk_instance.session_token(session.id))
    assert "o" not in claims and "fea" not in claims


async def test_token_for_another_membership_names_that_org(clerk_instance: DevInstance) -> None:
    session = clerk_instance.create_session(ADA, ENGINES)
    claims = verify(clerk_instance, clerk_instance.session_token(session.id, PARTNERS))
    assert claims["o"]["id"] == PARTNERS and claims["o"]["rol"] == "member"
    assert clerk_instance.store.session(session.id).last_active_organization_id == ENGINES


async def test_no_token_for_an_org_the_user_is_not_in(clerk_instance: DevInstance) -> None:
    session = clerk_instance.create_session(GRACE)
    with pytest.raises(ClerkAPIError) as info:
        clerk_instance.session_token(session.id, ENGINES)
    assert info.value.status == 403


async def test_pending_session_token_says_pending(clerk_instance: DevInstance) -> None:
    session = clerk_instance.create_session(ADA, status="pending")
    assert verify(clerk_instance, clerk_instance.session_token(session.id))["sts"] == "pending"


@pytest.mark.parametrize("status", ["ended", "revoked", "removed", "expired"])
async def test_no_token_for_a_signed_out_session(clerk_instance: DevInstance, status: str) -> None:
    session = clerk_instance.create_session(ADA, status=status)
    with pytest.raises(ClerkAPIError) as info:
        clerk_instance.session_token(session.id)
    assert info.value.code == "session_not_active"


async def test_lifetime_is_configurable(clerk_instance: DevInstance) -> None:
    session = clerk_instance.create_session(ADA)
    claims = verify(clerk_instance, clerk_instance.session_token(session.id, lifetime=300))
    assert claims["exp"] - claims["iat"] == 300


async def test_claims_can_be_overridden_or_dropped_to_forge_bad_tokens(
    clerk_instance: DevInstance,
) -> None:
    session = clerk_instance.create_session(ADA, ENGINES)
    token = clerk_instance.session_token(
        session.id,
        extra_claims={"iss": "https://evil.example", "v": 1, "custom": [1]},
        drop_claims=("sid", "azp"),
    )
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == "https://evil.example" and claims["v"] == 1 and claims["custom"] == [1]
    assert "sid" not in claims and "azp" not in claims
    # Still signed by the instance's real key.
    key = clerk_instance.keyring.current.private_key.public_key()
    jwt.decode(token, key=key, algorithms=["RS256"], options={"verify_iss": False})


async def test_header_fields_can_be_replaced_or_removed(clerk_instance: DevInstance) -> None:
    session = clerk_instance.create_session(ADA)
    token = clerk_instance.session_token(
        session.id, header_overrides={"kid": None, "alg": "HS256", "typ": "at+jwt"}
    )
    assert jwt.get_unverified_header(token) == {
        "alg": "HS256",
        "cat": "cl_B7d4PD111AAA",
        "typ": "at+jwt",
    }


async def test_public_key_pem_verifies_current_tokens(clerk_instance: DevInstance) -> None:
    session = clerk_instance.create_session(ADA)
    token = clerk_instance.session_token(session.id)
    jwt.decode(
        token, key=clerk_instance.public_key_pem, algorithms=["RS256"], issuer=clerk_instance.issuer
    )


async def test_rotation_signs_with_a_new_kid_and_keeps_the_old_one_published(
    clerk_instance: DevInstance,
) -> None:
    session = clerk_instance.create_session(ADA)
    old_token = clerk_instance.session_token(session.id)
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    new_kid = clerk_instance.rotate_keys()
    new_token = clerk_instance.session_token(session.id)
    assert new_kid != old_kid and jwt.get_unverified_header(new_token)["kid"] == new_kid
    assert [k["kid"] for k in clerk_instance.keyring.jwks()["keys"]] == [new_kid, old_kid]
    verify(clerk_instance, old_token)
    verify(clerk_instance, new_token)
    clerk_instance.retire_old_keys()
    assert [k["kid"] for k in clerk_instance.keyring.jwks()["keys"]] == [new_kid]
    with pytest.raises(StopIteration):
        verify(clerk_instance, old_token)


def test_helpers_that_need_the_bound_port_refuse_before_start() -> None:
    instance = DevInstance()
    session = instance.create_session(ADA)
    with pytest.raises(RuntimeError):
        instance.session_token(session.id)
    with pytest.raises(RuntimeError):
        _ = instance.url
