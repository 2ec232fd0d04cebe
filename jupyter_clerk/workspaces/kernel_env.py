"""What a kernel or terminal may inherit from the server's environment: an allowlist.

A denylist misses whatever secret it did not foresee (`OPENAI_API_KEY`, `DATABASE_URL` with
its password); an allowlist passes only what a kernel needs to run. Kernel specs add their
own `env` after this filter, so an administrator can still give a kernel a variable.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any

from traitlets import List, Unicode, default
from traitlets.config import LoggingConfigurable

from ..settings_env import env_list

# Never passed, even when an allowlist pattern matches: the server's own credentials.
SECRET_PATTERNS = ("CLERK_*", "JUPYTER_TOKEN", "JPY_API_TOKEN", "*_SECRET*", "*_SECRET_KEY")

# Locale, terminal, paths, the Python or conda environment the kernel runs from, libraries
# and certificates: what a kernel needs to run, nothing that is usually a credential.
ALLOWED_ENVIRONMENT = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "LC_*",
    "TZ",
    "TERM",
    "COLORTERM",
    "TMPDIR",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "CONDA_DEFAULT_ENV",
    "PYTHONPATH",
    "PYTHONUNBUFFERED",
    "PYTHONIOENCODING",
    "PYDEVD_*",
    "JPY_SESSION_NAME",
    "MPLBACKEND",
    "LD_LIBRARY_PATH",
    "CUDA_VISIBLE_DEVICES",
    "OMP_NUM_THREADS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
)

ALLOW_VARIABLE = "CLERK_KERNEL_ENV_ALLOW"


def _matches(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name.upper(), p.upper()) for p in patterns)


class KernelEnvironment(LoggingConfigurable):
    """Settings of the environment kernels and terminals start with (c.KernelEnvironment.…)."""

    allowed = List(
        Unicode(),
        help="Environment variable patterns (fnmatch, case-insensitive) a kernel or terminal "
        f"inherits from the server; everything else is dropped. Default: a locale, terminal "
        f"and Python list, plus the comma-separated patterns in ${ALLOW_VARIABLE}. "
        "CLERK_*, JUPYTER_TOKEN and *_SECRET* are never passed.",
    ).tag(config=True)

    @default("allowed")
    def _default_allowed(self) -> list[str]:
        return [*ALLOWED_ENVIRONMENT, *env_list(ALLOW_VARIABLE)]

    def filter(self, env: Mapping[str, str], denied: Iterable[str] = ()) -> dict[str, str]:
        denied = (*SECRET_PATTERNS, *denied)
        return {
            name: value
            for name, value in env.items()
            if _matches(name, self.allowed) and not _matches(name, denied)
        }


def scrub_environment(
    env: Mapping[str, str], extra_patterns: Iterable[str] = (), parent: Any = None
) -> dict[str, str]:
    """`env` reduced to the allowlist of `parent`'s config, minus secrets and `extra_patterns`."""
    return KernelEnvironment(parent=parent).filter(env, extra_patterns)
