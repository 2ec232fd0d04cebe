"""Review of issue 15: socket limits the configuration can set that the admission ignores.

- `raise_open_files` caps the admitted sockets by the open-file limit only when the system
  gave less than `open_files`; an operator's own smaller `open_files` (CLERK_OPEN_FILES) is
  raised to and then ignored, so the server admits sockets it has no descriptors for and
  fails with "Too many open files" (a traceback) instead of a clean 503.
- Values set in config (not the environment) are not checked: a negative limit, refused with
  a clear error from CLERK_*, silently refuses every kernel WebSocket (429 or 503).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from jupyter_clerk.errors import ClerkConfigError
from jupyter_clerk.workspaces.socket_limits import FILES_PER_WEBSOCKET, ClerkSocketLimits

# Run apart: lowering this process's open-file limit would disturb the other tests.
PROBE = """
import resource
from jupyter_clerk.workspaces.socket_limits import ClerkSocketLimits
resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 4096))
limits = ClerkSocketLimits(max_kernel_websockets=2000, open_files=2048)
allowed = limits.raise_open_files()
print(allowed, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
"""


def test_an_operators_smaller_open_file_limit_caps_the_admitted_sockets():
    """Fails today: with 2 048 open files the server admits 2 000 sockets (about 20 000
    descriptors' worth)."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    allowed, soft = map(int, result.stdout.split())
    assert soft == 2048
    assert allowed * FILES_PER_WEBSOCKET <= soft


@pytest.mark.parametrize(
    "trait", ["max_kernel_websockets", "max_kernel_websockets_per_person", "open_files"]
)
def test_a_negative_limit_from_config_is_a_clear_start_up_error(trait):
    """Fails today: accepted; -1 per person makes `full_for` true for everyone (every kernel
    WebSocket gets 429), -1 in all makes `full` true (503)."""
    with pytest.raises(ClerkConfigError) as info:
        getattr(ClerkSocketLimits(**{trait: -1}), trait)
    assert trait in str(info.value)
