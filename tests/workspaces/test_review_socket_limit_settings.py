"""Review of issue 15: socket limits the configuration can set that the admission ignores.

- Values set in config (not the environment) are not checked: a negative limit, refused with
  a clear error from CLERK_*, silently refuses every kernel WebSocket (429 or 503).
"""

from __future__ import annotations

import pytest

from jupyter_clerk.errors import ClerkConfigError
from jupyter_clerk.workspaces.socket_limits import ClerkSocketLimits


@pytest.mark.parametrize(
    "trait", ["max_kernel_websockets", "max_kernel_websockets_per_person", "open_files"]
)
def test_a_negative_limit_from_config_is_a_clear_start_up_error(trait):
    """Fails today: accepted; -1 per person makes `full_for` true for everyone (every kernel
    WebSocket gets 429), -1 in all makes `full` true (503)."""
    with pytest.raises(ClerkConfigError) as info:
        getattr(ClerkSocketLimits(**{trait: -1}), trait)
    assert trait in str(info.value)
