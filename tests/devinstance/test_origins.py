import pytest

from jupyter_clerk.devinstance.origins import OriginError, OriginPolicy

POLICY = OriginPolicy(["http://127.0.0.1:8888", "http://localhost:*"])


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://127.0.0.1:8888/lab?x=1", "http://127.0.0.1:8888"),
        ("http://127.0.0.1:8888", "http://127.0.0.1:8888"),
        ("HTTP://LOCALHOST:9999/tree", "http://localhost:9999"),
        ("http://localhost/", "http://localhost"),
    ],
)
def test_redirects_to_allowed_origins_are_accepted(url: str, origin: str) -> None:
    assert POLICY.redirect_origin(url) == origin


@pytest.mark.parametrize(
    "url",
    [
        "",
        "/lab",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http://evil.example/",
        "http://127.0.0.1:8889/",
        "https://127.0.0.1:8888/",
        "http://127.0.0.1:8888@evil.example/",
        "http://evil.example\\@127.0.0.1:8888/",
        "http://127.0.0.1:8888\t.evil.example/",
        " http://127.0.0.1:8888/",
        "http://127.0.0.1:99999/",
        "data:text/html,hi",
    ],
)
def test_open_redirect_attempts_are_refused(url: str) -> None:
    assert POLICY.redirect_origin(url) is None


def test_origin_header_must_match_exactly() -> None:
    assert POLICY.allows_origin("http://127.0.0.1:8888")
    assert POLICY.allows_origin("http://localhost:1234")
    assert not POLICY.allows_origin("http://127.0.0.1:8888/lab")
    assert not POLICY.allows_origin("null")
    assert not POLICY.allows_origin(None)
    assert not POLICY.allows_origin("http://localhost:*")


def test_default_origin_is_the_first_with_a_concrete_port() -> None:
    assert POLICY.default_origin == "http://127.0.0.1:8888"
    assert OriginPolicy(["http://localhost:*"]).default_origin is None


@pytest.mark.parametrize("bad", ["127.0.0.1:8888", "ftp://x", "http://x/path", "http://a:b"])
def test_malformed_allowed_origin_setting_is_refused(bad: str) -> None:
    with pytest.raises(OriginError):
        OriginPolicy([bad])
