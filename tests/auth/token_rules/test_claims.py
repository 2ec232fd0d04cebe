"""Both claim shapes parse into one result; permissions decode exactly as @clerk/backend's."""

from __future__ import annotations

import pytest

from jupyter_clerk.auth.organization_claims import decode_permissions
from jupyter_clerk.errors import TokenError


def test_clerk_documented_permission_example_decodes():
    assert decode_permissions("o:dashboard,o:teams", "manage,read", "3,2") == {
        "org:dashboard:manage",
        "org:dashboard:read",
        "org:teams:read",
    }


def test_user_scoped_features_grant_no_organization_permissions():
    assert decode_permissions("u:billing,o:teams", "manage,read", "3") == {
        "org:teams:manage",
        "org:teams:read",
    }


@pytest.mark.parametrize("scope", ["ou", "uo"])
def test_features_scoped_to_both_count_for_the_organization(scope):
    assert decode_permissions(f"{scope}:teams", "read", "1") == {"org:teams:read"}


@pytest.mark.parametrize(
    ("fea", "per", "fpm", "expected"),
    [
        # @clerk/shared's jwtPayloadParser.spec.ts cases: bit i (least significant first)
        # grants per[i]; a feature past the last mask has no permissions.
        (
            "o:repositories,o:projects",
            "read,create,update,delete,revoke",
            "7,21",
            {
                "org:repositories:read",
                "org:repositories:create",
                "org:repositories:update",
                "org:projects:read",
                "org:projects:update",
                "org:projects:revoke",
            },
        ),
        (
            "o:repositories,o:projects,o:webhooks,o:impersonation",
            "read,manage",
            "1,2,3",
            {
                "org:repositories:read",
                "org:projects:manage",
                "org:webhooks:read",
                "org:webhooks:manage",
            },
        ),
        (
            "uo:impersonation,o:memberships,uo:feature3",
            "read,manage",
            "1,3,1",
            {
                "org:impersonation:read",
                "org:memberships:read",
                "org:memberships:manage",
                "org:feature3:read",
            },
        ),
    ],
)
def test_permissions_decode_bit_for_bit_as_clerk_decodes_them(fea, per, fpm, expected):
    assert decode_permissions(fea, per, fpm) == expected


@pytest.mark.parametrize("mask", ["-1", "1.0", "0x3", "", "٣", "1e3", "+3", "3_0", " 3", "03"])
def test_masks_that_are_not_canonical_decimals_are_refused(mask):
    with pytest.raises(TokenError):
        decode_permissions("o:teams,o:billing", "manage,read", f"1,{mask}")


@pytest.mark.parametrize("mask", ["9" * 5000, "1" + "0" * 30, "2"])
def test_masks_with_bits_past_the_permission_names_are_refused(mask):
    with pytest.raises(TokenError):
        decode_permissions("o:teams", "read", mask)


@pytest.mark.parametrize("fpm", [None, ""])
def test_permission_names_without_masks_are_refused(fpm):
    with pytest.raises(TokenError):
        decode_permissions("o:teams", "read", fpm)


def test_masks_without_permission_names_are_refused():
    with pytest.raises(TokenError):
        decode_permissions("o:teams", None, "0")


def test_feature_without_scope_fails_closed():
    with pytest.raises(TokenError):
        decode_permissions("teams", "read", "1")


def test_more_masks_than_features_are_refused():
    with pytest.raises(TokenError):
        decode_permissions("o:teams", "read", "1,1,1")


async def test_version_2_organization_claims_parse(verifier, forge, clock):
    token = forge.token(
        forge.claims(
            clock.now,
            fea="o:dashboard,o:teams,u:billing",
            pla="u:free,o:pro",
            o={
                "id": "org_2aAcme",
                "rol": "admin",
                "slg": "acme",
                "per": "manage,read",
                "fpm": "3,2",
            },
            act={"sub": "user_2aSupport"},
        )
    )
    claims = await verifier.verify(token)
    org = claims.organization
    assert (org.id, org.slug, org.role) == ("org_2aAcme", "acme", "org:admin")
    assert org.permissions == {"org:dashboard:manage", "org:dashboard:read", "org:teams:read"}
    assert claims.plans == ("u:free", "o:pro")
    assert claims.actor == {"sub": "user_2aSupport"}
    assert claims.version == 2


async def test_version_1_organization_claims_parse(verifier, forge, clock):
    token = forge.token(
        forge.claims(
            clock.now,
            v=None,
            org_id="org_2aAcme",
            org_role="org:member",
            org_slug="acme",
            org_permissions=["org:jupyter:read"],
        )
    )
    org = (await verifier.verify(token)).organization
    assert (org.id, org.slug, org.role) == ("org_2aAcme", "acme", "org:member")
    assert org.permissions == {"org:jupyter:read"}


@pytest.mark.parametrize(
    "overrides",
    [
        {"o": "org_2aAcme"},
        {"o": {"id": "org_2aAcme", "rol": 5}},
        {"o": {"id": "org_2aAcme", "per": ["read"], "fpm": "1"}},
        {"act": "user_2aSupport"},
        {"act": {"type": "agent"}},
        {"azp": 7},
    ],
)
async def test_wrongly_typed_claims_are_refused(verifier, forge, clock, overrides):
    with pytest.raises(TokenError):
        await verifier.verify(forge.token(forge.claims(clock.now, **overrides)))


async def test_version_1_permissions_must_be_strings(verifier, forge, clock):
    token = forge.token(
        forge.claims(clock.now, v=None, org_id="org_2aAcme", org_permissions=["a", 1])
    )
    with pytest.raises(TokenError):
        await verifier.verify(token)
