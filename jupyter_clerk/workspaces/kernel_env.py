"""What a kernel may inherit from the server's environment: nothing secret."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping

# The server's credentials; a kernel runs user code and must never see them.
SECRET_PATTERNS = ("CLERK_*", "JUPYTER_TOKEN", "JPY_API_TOKEN", "*_SECRET*", "*_SECRET_KEY")


def scrub_environment(env: Mapping[str, str], extra_patterns: Iterable[str] = ()) -> dict[str, str]:
    patterns = (*SECRET_PATTERNS, *extra_patterns)
    return {
        name: value
        for name, value in env.items()
        if not any(fnmatch.fnmatchcase(name.upper(), p.upper()) for p in patterns)
    }
