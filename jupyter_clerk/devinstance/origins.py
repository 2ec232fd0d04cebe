"""Which web origins the instance trusts: for redirects, CORS, and the `azp` claim.

An allowed origin is `scheme://host[:port]`, or `scheme://host:*` for any port of that host
(handy in tests where the Jupyter server's port is picked at random). Redirect targets are
parsed strictly, so `//evil`, `/\\evil`, `javascript:` and user-info tricks never pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_ORIGIN = re.compile(r"^(https?)://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}|\*))?$")
_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x20\x7f\\]")


class OriginError(ValueError):
    """An allowed-origin setting that is not `scheme://host[:port|:*]`."""


@dataclass(frozen=True)
class _Pattern:
    scheme: str
    host: str
    port: int | None  # None: any port

    def matches(self, scheme: str, host: str, port: int) -> bool:
        return (self.scheme, self.host) == (scheme, host) and self.port in (None, port)


class OriginPolicy:
    def __init__(self, allowed_origins: list[str]) -> None:
        self._patterns = [self._parse(origin) for origin in allowed_origins]
        self.allowed_origins = tuple(allowed_origins)

    @property
    def default_origin(self) -> str | None:
        """The first allowed origin that names one port: the Jupyter server by default."""
        return next((o.rstrip("/") for o in self.allowed_origins if not o.endswith(":*")), None)

    def allows_origin(self, origin: str | None) -> bool:
        """Whether an `Origin` header value names an allowed origin exactly."""
        if not origin or not _ORIGIN.match(origin) or origin.endswith(":*"):
            return False
        return self.redirect_origin(origin) is not None

    def redirect_origin(self, url: str | None) -> str | None:
        """The origin of `url` if it is an absolute http(s) URL to an allowed origin."""
        if not url or _UNSAFE_CHARACTERS.search(url):
            return None
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return None
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        if scheme not in _DEFAULT_PORTS or not host or "@" in parts.netloc:
            return None
        port = port if port is not None else _DEFAULT_PORTS[scheme]
        if not any(p.matches(scheme, host, port) for p in self._patterns):
            return None
        host_part = f"[{host}]" if ":" in host else host
        port_part = "" if port == _DEFAULT_PORTS[scheme] else f":{port}"
        return f"{scheme}://{host_part}{port_part}"

    @staticmethod
    def _parse(origin: str) -> _Pattern:
        match = _ORIGIN.match(origin.rstrip("/"))
        if match is None:
            raise OriginError(f"{origin!r} is not an origin like http://127.0.0.1:8888")
        scheme, host, port = match.groups()
        host = host.strip("[]").lower()
        if port == "*":
            return _Pattern(scheme, host, None)
        return _Pattern(scheme, host, int(port) if port else _DEFAULT_PORTS[scheme])
