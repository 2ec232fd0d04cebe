"""Whether a host is this machine: the one place plain http (and the local instance) is allowed."""

from __future__ import annotations

import ipaddress


def is_loopback_host(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
