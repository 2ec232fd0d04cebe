"""Regression tests, one class of malformation each, in the style of PyJWT's test_advisory.py.

Every token here is validly signed by the key the verifier trusts, so only the grammar can
refuse it. Run against the verifier before this grammar (commit 0e741eb: Python's lenient
base64 and JSON decoders, no header registry, masks that grant nothing), 119 of these cases
were accepted or crashed it; the others guard checks it already had.
"""

from __future__ import annotations

import json

import pytest

from jupyter_clerk.auth.jose_header import REFUSED_PARAMETERS
from jupyter_clerk.auth.tokens import SessionTokenVerifier
from jupyter_clerk.errors import TokenError
from tests.forge import ISSUER, PARTY, Forge, b64url

ORG = {"id": "org_2aAcme", "rol": "admin", "slg": "acme", "per": "read,write", "fpm": "3"}


async def refused(verifier: SessionTokenVerifier, token: str) -> str:
    with pytest.raises(TokenError) as info:
        await verifier.verify(token)
    assert "eyJ" not in str(info.value)  # a refusal never carries the token
    return info.value.reason


def compact(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def org_claims(forge: Forge, now: int, **org: object) -> dict:
    return forge.claims(now, fea="o:jupyter", o={**ORG, **org})


class TestHeaderParametersThatChangeTheReading:
    """RFC 7515/7516/7797 parameters that nest, compress, re-encode or encrypt the payload."""

    @pytest.mark.parametrize("name", sorted(REFUSED_PARAMETERS))
    async def test_registered_parameter_is_refused_whatever_its_value(
        self, verifier, forge, clock, keys, name
    ):
        value = False if name == "b64" else "JWT" if name == "cty" else "x"
        token = forge.token(forge.claims(clock.now), forge.header(**{name: value}))
        assert await refused(verifier, token) == "token-invalid"
        assert keys.lookups == 0

    async def test_b64_true_is_refused_too(self, verifier, forge, clock):
        token = forge.token(forge.claims(clock.now), forge.header(b64=True, crit=["b64"]))
        assert await refused(verifier, token) == "token-invalid"

    async def test_header_claims_replicating_a_different_subject_are_refused(
        self, verifier, forge, clock
    ):
        header = forge.header(sub="user_2aSomeoneElse")
        assert await refused(verifier, forge.token(forge.claims(clock.now), header)) == (
            "token-invalid"
        )


class TestHeaderFieldsOfTheWrongType:
    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("alg", ["RS256"]),
            ("alg", "rs256"),
            ("alg", "RS256\u0000"),
            ("kid", 7),
            ("kid", ["ins_forgeKey1"]),
            ("kid", None),
            ("kid", ""),
            ("kid", "ins forge"),
            ("typ", ["JWT"]),
            ("typ", "jwt"),
            ("typ", "JWT "),
            ("typ", None),
            ("cat", ["cl_B7d4PD111AAA"]),
            ("cat", {"cl_B7d4PD111AAA": 1}),
            ("cat", 1),
            ("x5t", "not base64!"),
            ("x5t", b64url(b"\0" * 19)),
            ("x5t#S256", b64url(b"\0" * 20)),
            ("x5t#S256", 32),
            ("url", ["https://clerk.example.com"]),
            ("nonce", {"n": 1}),
            ("svt", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"),
        ],
    )
    async def test_registered_field_of_the_wrong_type_is_refused(
        self, verifier, forge, clock, keys, name, value
    ):
        header = {**forge.header(), name: value}
        token = forge.token_from_bytes(compact(header), compact(forge.claims(clock.now)))
        assert await refused(verifier, token) in ("token-invalid", "token-invalid-algorithm")
        assert keys.lookups == 0

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("x5t", b64url(b"\1" * 20)),
            ("x5t#S256", b64url(b"\1" * 32)),
            ("nonce", "abc"),
            ("svt", []),
            ("ext", {"anything": [1, None]}),
            ("x-trace", 7),
        ],
    )
    async def test_informational_fields_of_the_right_type_stay_accepted(
        self, verifier, forge, clock, name, value
    ):
        token = forge.token(forge.claims(clock.now), forge.header(**{name: value}))
        assert (await verifier.verify(token)).user_id == "user_2aForgedUser"


class TestNonCanonicalBase64url:
    """Spare bits in the last character: the same bytes, another spelling of the token."""

    @staticmethod
    def respell(segment: str) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        spare = {2: 0b1111, 3: 0b11}[len(segment) % 4]
        last = alphabet.index(segment[-1])
        return segment[:-1] + alphabet[last | spare if last & spare == 0 else last & ~spare]

    @pytest.mark.parametrize("index", [0, 1, 2])
    async def test_respelled_segment_is_refused(self, verifier, forge, clock, index):
        for padding in range(3):  # one of three payload lengths leaves spare bits everywhere
            claims = forge.claims(clock.now, pad="x" * padding)
            segments = forge.token(claims).split(".")
            if len(segments[index]) % 4 in (2, 3):
                break
        segments[index] = self.respell(segments[index])
        resigned = forge.sign_segments(segments[0], segments[1])
        token = resigned if index < 2 else ".".join(segments)
        assert await refused(verifier, token) == "token-invalid"

    async def test_padded_segment_is_refused(self, verifier, forge, clock):
        header, payload, signature = forge.token(forge.claims(clock.now)).split(".")
        assert await refused(verifier, f"{header}.{payload}.{signature}==") == "token-invalid"


class TestPayloadThatIsNotStrictUtf8Json:
    @pytest.mark.parametrize(
        "mangle",
        [
            pytest.param(lambda text: b"\xef\xbb\xbf" + text, id="utf8-bom"),
            pytest.param(lambda text: text.decode().encode("utf-16"), id="utf16-with-bom"),
            pytest.param(lambda text: text.decode().encode("utf-16-le"), id="utf16-le"),
            pytest.param(lambda text: text.decode().encode("utf-32"), id="utf32"),
            pytest.param(lambda text: text + b"x", id="trailing-garbage"),
            pytest.param(lambda text: text + b"{}", id="second-value"),
            pytest.param(lambda text: text + b"\0", id="trailing-nul"),
            pytest.param(lambda text: text[:-1] + b',"n":"\xff"}', id="invalid-byte"),
            pytest.param(lambda text: text[:-1] + b',"n":"\xc0\xaf"}', id="overlong-slash"),
            pytest.param(lambda text: text[:-1] + b',"n":"\xed\xa0\x80"}', id="encoded-surrogate"),
            pytest.param(lambda text: text[:-1] + b',"n":"\xf4\x90\x80\x80"}', id="beyond-u10ffff"),
            pytest.param(lambda text: text[:-1] + b',"n":"\x01"}', id="raw-control-byte"),
        ],
    )
    async def test_payload_bytes_outside_strict_json_are_refused(
        self, verifier, forge, clock, mangle
    ):
        payload = mangle(compact(forge.claims(clock.now)))
        token = forge.token_from_bytes(compact(forge.header()), payload)
        assert await refused(verifier, token) == "token-invalid"

    @pytest.mark.parametrize(
        "member",
        [
            '"n":"\\ud800"',
            '"n":"\\uDFFF"',
            '"n":"\\udc00\\ud800"',
            '"n":["\\ud83d"]',
            '"\\ud800":1',
            '"n":{"\\udbff":1}',
        ],
    )
    async def test_lone_surrogate_escapes_are_refused(self, verifier, forge, clock, member):
        payload = compact(forge.claims(clock.now))[:-1] + f",{member}}}".encode()
        token = forge.token_from_bytes(compact(forge.header()), payload)
        assert await refused(verifier, token) == "token-invalid"

    async def test_a_surrogate_pair_is_one_character_and_accepted(self, verifier, forge, clock):
        payload = compact(forge.claims(clock.now))[:-1] + b',"name":"Ada \\ud83d\\ude00"}'
        token = forge.token_from_bytes(compact(forge.header()), payload)
        assert (await verifier.verify(token)).extra["name"] == "Ada \U0001f600"

    @pytest.mark.parametrize("number", ["1e400", "-1e400", "NaN", "Infinity", "-Infinity"])
    async def test_non_finite_numbers_are_refused_in_any_claim(
        self, verifier, forge, clock, number
    ):
        payload = compact(forge.claims(clock.now))[:-1] + f',"unused":{number}}}'.encode()
        token = forge.token_from_bytes(compact(forge.header()), payload)
        assert await refused(verifier, token) == "token-invalid"

    @pytest.mark.parametrize("where", ["header", "payload", "o"])
    async def test_duplicate_members_are_refused_at_any_depth(self, verifier, forge, clock, where):
        header, payload = compact(forge.header()), compact(org_claims(forge, clock.now))
        if where == "header":
            header = header[:-1] + b',"alg":"RS256"}'
        elif where == "payload":
            payload = payload[:-1] + b',"sub":"user_2aForgedUser"}'
        else:
            payload = payload.replace(b'"rol":"admin"', b'"rol":"admin","rol":"admin"')
        assert await refused(verifier, forge.token_from_bytes(header, payload)) == "token-invalid"

    async def test_deep_nesting_is_refused_cleanly(self, verifier, forge, clock):
        payload = compact(forge.claims(clock.now))[:-1] + b',"n":' + b"[" * 3000 + b"]" * 3000
        token = forge.token_from_bytes(compact(forge.header()), payload + b"}")
        assert await refused(verifier, token) == "token-invalid"


class TestTimesThatAreNotIntegerSeconds:
    @pytest.mark.parametrize("name", ["exp", "iat", "nbf"])
    @pytest.mark.parametrize(
        "raw",
        ["{t}.0", "{t}e0", "{t}.5", "true", "false", "null", '"{t}"', "[{t}]", "-1", "1e400"],
    )
    async def test_time_claim_that_is_not_an_integer_in_range_is_refused(
        self, verifier, forge, clock, name, raw
    ):
        claims = forge.claims(clock.now)
        value = raw.format(t=claims[name])
        text = compact(claims).replace(
            f'"{name}":{claims[name]}'.encode(), f'"{name}":{value}'.encode()
        )
        token = forge.token_from_bytes(compact(forge.header()), text)
        assert await refused(verifier, token) == "token-invalid"

    async def test_time_beyond_year_9999_is_refused(self, verifier, forge, clock):
        token = forge.token(forge.claims(clock.now, exp=253_402_300_800))
        assert await refused(verifier, token) == "token-invalid"


LOOK_ALIKES = [
    "{p}_2aForged\u0661",  # Arabic-Indic digit one
    "{p}_2aForged\uff11",  # fullwidth digit one
    "{p}_2aF\u043ergedUser",  # Cyrillic o
    "{p}_2aForged\u200bUser",  # zero-width space
    "{p}_2aForgedUser\u0000",
    "{p}_2aForgedUser\n",
    "{p}_2aForgedUser ",
    " {p}_2aForgedUser",
    "{p}_2a-ForgedUser",
    "{p}_",
    "{P}_2aForgedUser",
    "{p}-2aForgedUser",
    "{p}__2aForgedUser",
    "{p}_" + "a" * 65,
]


def id_variants(prefix: str) -> list[str]:
    return [v.format(p=prefix, P=prefix.upper()) for v in LOOK_ALIKES] + [
        f"{prefix.capitalize()}_2aForgedUser"
    ]


class TestIdsOutsideClerksAlphabet:
    @pytest.mark.parametrize("value", id_variants("user"))
    async def test_user_id_look_alike_is_refused(self, verifier, forge, clock, value):
        token = forge.token(forge.claims(clock.now, sub=value))
        assert await refused(verifier, token) == "token-invalid"

    @pytest.mark.parametrize("value", id_variants("sess"))
    async def test_session_id_look_alike_is_refused(self, verifier, forge, clock, value):
        token = forge.token(forge.claims(clock.now, sid=value))
        assert await refused(verifier, token) == "token-invalid"

    @pytest.mark.parametrize("value", id_variants("org"))
    async def test_organization_id_look_alike_is_refused(self, verifier, forge, clock, value):
        assert await refused(verifier, forge.token(org_claims(forge, clock.now, id=value))) == (
            "token-invalid"
        )

    @pytest.mark.parametrize("value", id_variants("user"))
    async def test_actor_id_look_alike_is_refused(self, verifier, forge, clock, value):
        token = forge.token(forge.claims(clock.now, act={"sub": value}))
        assert await refused(verifier, token) == "token-invalid"


class TestIssuerAndPartyCompareExactly:
    @pytest.mark.parametrize(
        "iss",
        [
            ISSUER + "/",
            ISSUER.upper(),
            ISSUER + " ",
            ISSUER + "\u0000",
            "https://CLERK.example.com",
        ],
    )
    async def test_near_miss_issuer_is_refused(self, verifier, forge, clock, iss):
        token = forge.token(forge.claims(clock.now, iss=iss))
        assert await refused(verifier, token) == "token-invalid-issuer"

    @pytest.mark.parametrize("iss", [[ISSUER], {"iss": ISSUER}, 1])
    async def test_issuer_of_the_wrong_type_is_refused(self, verifier, forge, clock, iss):
        token = forge.token(forge.claims(clock.now, iss=iss))
        assert await refused(verifier, token) == "token-invalid-issuer"

    @pytest.mark.parametrize("azp", [PARTY + "/", PARTY.upper(), PARTY + "#", PARTY + ":443"])
    async def test_near_miss_party_is_refused(self, verifier, forge, clock, azp):
        token = forge.token(forge.claims(clock.now, azp=azp))
        assert await refused(verifier, token) == "token-invalid-authorized-parties"

    @pytest.mark.parametrize("azp", [[PARTY], {"azp": PARTY}, True])
    async def test_party_of_the_wrong_type_is_refused(self, verifier, forge, clock, azp):
        assert await refused(verifier, forge.token(forge.claims(clock.now, azp=azp))) == (
            "token-invalid"
        )


class TestOrganizationClaimsThatDoNotDecodeCleanly:
    @pytest.mark.parametrize(
        "org",
        [
            {"rol": "Admin"},
            {"rol": "org:admin"},
            {"rol": "admin "},
            {"rol": ""},
            {"rol": "\u0430dmin"},
            {"rol": ["admin"]},
            {"slg": "Acme"},
            {"slg": "acme/../other"},
            {"slg": ""},
            {"slg": 5},
            {"per": "read, write"},
            {"per": "read,read"},
            {"per": "read,,write"},
            {"per": "read,Write"},
            {"fpm": "3,"},
            {"fpm": " 3"},
            {"fpm": "03"},
            {"fpm": "\u0663"},
            {"fpm": "4"},
            {"fpm": "3,1"},
            {"fpm": 3},
            {"fpm": ""},
            {"per": ""},
        ],
    )
    async def test_malformed_v2_organization_member_is_refused(self, verifier, forge, clock, org):
        assert await refused(verifier, forge.token(org_claims(forge, clock.now, **org))) == (
            "token-invalid"
        )

    @pytest.mark.parametrize("name", ["rol", "per", "fpm", "id"])
    async def test_missing_v2_organization_member_is_refused(self, verifier, forge, clock, name):
        claims = org_claims(forge, clock.now)
        del claims["o"][name]
        assert await refused(verifier, forge.token(claims)) == "token-invalid"

    @pytest.mark.parametrize(
        "fea",
        [
            "o:jupyter,o:jupyter",
            "o:jupyter,u:jupyter",
            "x:jupyter",
            "o:Jupyter",
            " o:jupyter",
            "o:jupyter,",
            "jupyter",
            "o:",
            ["o:jupyter"],
            None,
        ],
    )
    async def test_malformed_features_are_refused(self, verifier, forge, clock, fea):
        claims = org_claims(forge, clock.now)
        claims["fea"] = fea
        token = forge.token_from_bytes(compact(forge.header()), compact(claims))
        assert await refused(verifier, token) == "token-invalid"

    async def test_features_past_the_last_mask_have_no_permissions(self, verifier, forge, clock):
        claims = org_claims(forge, clock.now)
        claims["fea"] = "o:jupyter,o:teams"
        org = (await verifier.verify(forge.token(claims))).organization
        assert org.permissions == {"org:jupyter:read", "org:jupyter:write"}

    @pytest.mark.parametrize(
        "v1",
        [
            {"org_role": "admin"},
            {"org_role": "org:Admin"},
            {"org_role": None},
            {"org_slug": "Acme"},
            {"org_permissions": ["org:jupyter:read", "org:jupyter:read"]},
            {"org_permissions": ["jupyter:read"]},
            {"org_permissions": ["org:jupyter:read "]},
            {"org_permissions": "org:jupyter:read"},
            {"org_permissions": None},
        ],
    )
    async def test_malformed_v1_organization_claim_is_refused(self, verifier, forge, clock, v1):
        claims = forge.claims(
            clock.now, org_id="org_2aAcme", org_role="org:admin", org_permissions=["org:a:b"]
        )
        claims.update(v1)
        del claims["v"]
        token = forge.token_from_bytes(compact(forge.header()), compact(claims))
        assert await refused(verifier, token) == "token-invalid"

    async def test_v1_organization_claims_without_org_id_are_refused(self, verifier, forge, clock):
        claims = forge.claims(clock.now, org_role="org:admin", org_permissions=["org:a:b"])
        del claims["v"]
        assert await refused(verifier, forge.token(claims)) == "token-invalid"


class TestTwoShapesInOneToken:
    async def test_v2_token_with_v1_organization_claims_is_refused(self, verifier, forge, clock):
        claims = forge.claims(clock.now, org_id="org_2aOther", org_role="org:admin")
        assert await refused(verifier, forge.token(claims)) == "token-invalid"

    async def test_v1_token_with_the_v2_organization_claim_is_refused(self, verifier, forge, clock):
        claims = org_claims(forge, clock.now)
        del claims["v"]
        assert await refused(verifier, forge.token(claims)) == "token-invalid"

    @pytest.mark.parametrize("raw", ["2.0", "true", "null", '"2"', "[2]"])
    async def test_version_of_the_wrong_type_is_refused(self, verifier, forge, clock, raw):
        text = compact(forge.claims(clock.now)).replace(b'"v":2', f'"v":{raw}'.encode())
        token = forge.token_from_bytes(compact(forge.header()), text)
        assert await refused(verifier, token) == "token-invalid"


class TestNullIsNotAbsent:
    @pytest.mark.parametrize("name", ["sts", "fea", "pla", "o", "act", "nbf"])
    async def test_null_claim_is_refused(self, verifier, forge, clock, name):
        claims = forge.claims(clock.now)
        claims[name] = None
        token = forge.token_from_bytes(compact(forge.header()), compact(claims))
        assert await refused(verifier, token) == "token-invalid"
