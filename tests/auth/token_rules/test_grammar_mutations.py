"""Grammar-level mutations of valid session tokens, every mutant re-signed with the trusted key.

Only the grammar can refuse a mutant, so the property is: each mutant is refused with a
TokenError (never another exception), or it is accepted and means exactly what the original
meant (same user, session, issuer, party, times, organization, role and permissions).
Mutations never produce a different well-formed value on purpose (no other user id, no
other mask); they change types, insert characters outside every alphabet Clerk uses, swap
look-alikes, change case, delete or duplicate members, add unknown ones, and re-encode.

Both properties fail within the default examples against the verifier before this grammar
(commit 0e741eb). Runtime is bounded by the `token-grammar` profile; TOKEN_GRAMMAR_EXAMPLES
raises the count for a deeper local run.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from jupyter_clerk.auth.claims import SessionClaims, parse_session_claims
from jupyter_clerk.auth.jose_header import REFUSED_PARAMETERS, TYPED_PARAMETERS
from jupyter_clerk.auth.keys import PemKey
from jupyter_clerk.auth.tokens import SessionTokenVerifier
from jupyter_clerk.errors import TokenError
from tests.forge import ISSUER, PARTY, Forge

settings.register_profile(
    "token-grammar",
    max_examples=int(os.environ.get("TOKEN_GRAMMAR_EXAMPLES", "600")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = settings.get_profile("token-grammar")
NOW = int(time.time())

Path = tuple[Any, ...]


def originals(forge: Forge) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Three tokens as Clerk writes them: v2 in an organization, v2 without, v1 in one."""
    header = forge.header()
    v2_org = forge.claims(
        NOW,
        sts="active",
        fea="o:jupyter,u:billing,ou:teams",
        pla="u:free_user,o:pro",
        o={"id": "org_2aAcme", "rol": "admin", "slg": "acme", "per": "read,write", "fpm": "3,1"},
        act={"sub": "user_2aSupport"},
    )
    v2_personal = forge.claims(NOW, fea="u:billing")
    v1_org = forge.claims(
        NOW,
        v=None,
        org_id="org_2aAcme",
        org_role="org:member",
        org_slug="acme",
        org_permissions=["org:jupyter:read", "org:teams:manage"],
    )
    return [(header, v2_org), (header, v2_personal), (header, v1_org)]


def meaning(claims: SessionClaims) -> tuple[Any, ...]:
    org = claims.organization
    return (
        claims.user_id,
        claims.session_id,
        claims.issuer,
        claims.authorized_party,
        claims.expires_at,
        claims.issued_at,
        claims.status == "pending",
        None if org is None else (org.id, org.slug, org.role, org.permissions),
        None if claims.actor is None else claims.actor["sub"],
    )


# Characters outside every alphabet a claim the project reads is checked against.
HOSTILE = (
    " \t\n\r\x00\x01\x1f\x7f\x85\xa0\u00ad\u200b\u200d\u2028\ufeff\ufffd"
    "\u0430\u043e\u0435\u0131\u0661\u0663\uff10\uff41\u0301/.'\"\\<>()[]{}=;+!*"
)
LOOK_ALIKES = {
    "a": "\u0430",
    "e": "\u0435",
    "o": "\u043e",
    "i": "\u0456",
    "s": "\u0455",
    "0": "\uff10",
    "1": "\u0661",
    "3": "\u0663",
    "_": "\uff3f",
    ":": "\uff1a",
}
# Claims Clerk may leave out, which then mean something else: deleting them is no malformation.
# (`o.per` and `o.fpm` only together, but two deletions could remove both.)
LEGIT_ABSENCES = {("o",), ("o", "slg"), ("o", "per"), ("o", "fpm"), ("org_slug",), ("sts",)}
LEGIT_ABSENCES |= {("nbf",), ("act",), ("pla",)}
KNOWN_CLAIMS = {"sub", "sid", "sts", "o", "fea", "pla", "act", "v", "iss", "azp", "exp"}
KNOWN_CLAIMS |= {"iat", "nbf", "org_id", "org_role", "org_slug", "org_permissions"}
V1_CLAIMS = frozenset({"org_id", "org_role", "org_slug", "org_permissions"})
KNOWN_HEADERS = {"alg", "kid", "typ", "cat"} | set(REFUSED_PARAMETERS) | set(TYPED_PARAMETERS)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def leaves(value: Any, path: Path = ()) -> list[Path]:
    """Every member path of a JSON object, containers included, list elements excluded."""
    paths = []
    if isinstance(value, dict):
        for key, child in value.items():
            paths.append((*path, key))
            paths.extend(leaves(child, (*path, key)))
    return paths


def at(doc: dict[str, Any], path: Path) -> tuple[dict[str, Any], Any]:
    for key in path[:-1]:
        doc = doc[key]
    return doc, path[-1]


@st.composite
def str_variant(draw: st.DrawFn, value: str) -> Any:
    kind = draw(st.sampled_from(["insert", "look-alike", "case", "pad", "repeat", "retype"]))
    if kind == "insert":
        index = draw(st.integers(0, len(value)))
        return value[:index] + draw(st.sampled_from(HOSTILE)) + value[index:]
    if kind == "look-alike":
        spots = [i for i, ch in enumerate(value) if ch in LOOK_ALIKES]
        if spots:
            i = draw(st.sampled_from(spots))
            return value[:i] + LOOK_ALIKES[value[i]] + value[i + 1 :]
        return value + "\u0430"
    if kind == "case":
        # Never swapcase: twice would turn an id back into a different, well-formed id.
        return draw(st.sampled_from([value.upper(), value.title()]))
    if kind == "pad":
        return draw(st.sampled_from([f" {value}", f"{value} ", f"{value}\x00", f"{value},"]))
    if kind == "repeat":
        return f"{value},{value.split(',')[0]}"
    return draw(st.sampled_from([[value], {"value": value}, None, True, 0, 1.5]))


@st.composite
def variant(draw: st.DrawFn, value: Any) -> Any:
    """The same value made malformed: another type, or a near miss of its own shape."""
    if isinstance(value, str):
        return draw(str_variant(value))
    if isinstance(value, bool) or value is None:
        return draw(st.sampled_from([json.dumps(value), [value], {"value": value}]))
    if isinstance(value, int):
        return draw(
            st.sampled_from([float(value), str(value), [value], None, True, False, -value - 1])
            | st.just(value + 10**12)
        )
    if isinstance(value, list):
        return draw(st.sampled_from([value + value[:1], [value], None, ",".join(map(str, value))]))
    return draw(st.sampled_from([[value], None, True, json.dumps(value), {}]))


@st.composite
def structural_mutant(draw: st.DrawFn, forge: Forge) -> tuple[dict, dict, dict, bool]:
    """(original payload, mutated header, mutated payload, must be refused)."""
    header, payload = draw(st.sampled_from(originals(forge)))
    new_header, new_payload = copy.deepcopy(header), copy.deepcopy(payload)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(
                ["change", "change", "delete", "unknown", "registered-header", "other-shape"]
            )
        )
        target = draw(st.sampled_from(["header", "payload"]))
        doc = new_header if target == "header" else new_payload
        paths = leaves(doc)
        if kind == "change" and paths:
            container, key = at(doc, draw(st.sampled_from(paths)))
            container[key] = draw(variant(container[key]))
        elif kind == "delete" and paths:
            path = draw(st.sampled_from(paths))
            if target == "header" or path not in LEGIT_ABSENCES:
                container, key = at(doc, path)
                del container[key]
        elif kind == "unknown":
            known = KNOWN_HEADERS if target == "header" else KNOWN_CLAIMS
            name = draw(
                st.text(min_size=1, max_size=6).filter(lambda n, known=known: n not in known)
            )
            inside_o = (
                target == "payload" and isinstance(doc.get("o"), dict) and draw(st.booleans())
            )
            container = doc["o"] if inside_o else doc
            if not inside_o or name not in {"id", "rol", "slg", "per", "fpm"}:
                container[name] = draw(json_values)
        elif kind == "registered-header":
            name = draw(st.sampled_from(sorted(REFUSED_PARAMETERS) + sorted(TYPED_PARAMETERS)))
            new_header[name] = draw(json_values)
        elif kind == "other-shape":
            if "o" in payload:
                new_payload["org_id"], new_payload["org_role"] = "org_2aOther", "org:admin"
            elif "org_id" in payload:
                new_payload["o"] = {"id": "org_2aOther", "rol": "admin"}
            else:
                continue
    two_shapes = "o" in new_payload and not V1_CLAIMS.isdisjoint(new_payload)
    must_refuse = two_shapes or not REFUSED_PARAMETERS.keys().isdisjoint(new_header)
    return payload, new_header, new_payload, must_refuse


def render(value: Any, escaped: frozenset[str], spaced: bool) -> str:
    """JSON text with chosen characters written as \\u escapes: same value, other spelling."""
    comma, colon = (", ", ": ") if spaced else (",", ":")
    if isinstance(value, dict):
        members = (
            f"{render(k, escaped, spaced)}{colon}{render(v, escaped, spaced)}"
            for k, v in value.items()
        )
        return "{" + comma.join(members) + "}"
    if isinstance(value, list):
        return "[" + comma.join(render(v, escaped, spaced) for v in value) + "]"
    if isinstance(value, str):
        return (
            '"'
            + "".join(
                f"\\u{ord(ch):04x}" if ch in escaped else json.dumps(ch)[1:-1] for ch in value
            )
            + '"'
        )
    return json.dumps(value)


@st.composite
def encoded(draw: st.DrawFn, value: dict[str, Any]) -> tuple[bytes, bool]:
    """(bytes, must be refused): a faithful spelling, or one no strict reader may accept."""
    escaped = frozenset(draw(st.sets(st.sampled_from("aeiorsu_:0123"), max_size=4)))
    text = render(value, escaped, draw(st.booleans()))
    kind = draw(
        st.sampled_from(
            [
                "faithful",
                "faithful",
                "faithful",
                "bom",
                "utf16",
                "trailing",
                "duplicate",
                "bad-utf8",
            ]
        )
    )
    if kind == "faithful":
        return text.encode(), False
    if kind == "bom":
        return b"\xef\xbb\xbf" + text.encode(), True
    if kind == "utf16":
        return text.encode(draw(st.sampled_from(["utf-16", "utf-16-le", "utf-32"]))), True
    if kind == "trailing":
        return text.encode() + draw(st.sampled_from([b"x", b"{}", b"\x00", b"]", b"0"])), True
    if kind == "duplicate" and value:
        name = draw(st.sampled_from(sorted(value)))
        again = value[name] if draw(st.booleans()) else draw(json_values)
        return f"{text[:-1]},{json.dumps(name)}:{json.dumps(again)}}}".encode(), True
    raw = draw(st.sampled_from([b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"]))
    return text[:-1].encode() + b',"z":"' + raw + b'"}', True


def verify(verifier: SessionTokenVerifier, token: str) -> SessionClaims | None:
    try:
        return asyncio.run(verifier.verify(token))
    except TokenError as refusal:
        assert "eyJ" not in str(refusal)  # a refusal never carries the token
        return None


@pytest.fixture(scope="module")
def grammar_verifier(forge: Forge) -> SessionTokenVerifier:
    return SessionTokenVerifier(
        PemKey(forge.public_pem),
        issuer=ISSUER,
        authorized_parties=[PARTY],
        cache_size=0,
        clock=lambda: NOW,
    )


def test_originals_are_accepted(grammar_verifier, forge):
    for header, payload in originals(forge):
        assert verify(grammar_verifier, forge.token(payload, header)) is not None


@settings(PROFILE)
@given(data=st.data())
def test_mutated_members_are_refused_or_mean_exactly_the_same(grammar_verifier, forge, data):
    original, header, payload, must_refuse = data.draw(structural_mutant(forge))
    expected = meaning(parse_session_claims(original))
    claims = verify(grammar_verifier, forge.token(payload, header))
    event("refused" if claims is None else "accepted")
    if must_refuse:
        assert claims is None
    elif claims is not None:
        assert meaning(claims) == expected


@settings(PROFILE)
@given(data=st.data())
def test_respelled_tokens_are_refused_or_mean_exactly_the_same(grammar_verifier, forge, data):
    header, payload = data.draw(st.sampled_from(originals(forge)))
    header_bytes, header_refused = data.draw(encoded(header))
    payload_bytes, payload_refused = data.draw(encoded(payload))
    token = forge.token_from_bytes(header_bytes, payload_bytes)
    if data.draw(st.booleans()):
        token, respelled = respell_signature(token)
        header_refused |= respelled
    claims = verify(grammar_verifier, token)
    event("refused" if claims is None else "accepted")
    if header_refused or payload_refused:
        assert claims is None
    else:
        assert claims is not None
        assert meaning(claims) == meaning(parse_session_claims(payload))


def respell_signature(token: str) -> tuple[str, bool]:
    """The same signature bytes with non-zero spare bits, when its length leaves any."""
    signing_input, _, signature = token.rpartition(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    spare = {2: 0b1111, 3: 0b11}.get(len(signature) % 4)
    if spare is None:
        return token, False
    last = alphabet.index(signature[-1])
    return f"{signing_input}.{signature[:-1]}{alphabet[last ^ spare]}", True
