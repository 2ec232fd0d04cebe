"""A role change stops a running organization server exactly when it took rights away."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from jupyter_clerk.hub.revocations import lost_rights
from jupyter_clerk.hub.server_env import (
    ROLE_ACTIONS_ENV,
    WORKSPACE_ENV,
    encode_value,
    encode_workspace,
)
from jupyter_clerk.workspaces.resolution import Workspace
from tests.hub.stack import ENGINES

ROLE_ACTIONS = {"org:member": ["read", "write", "execute"]}


def started_as(role: str, permissions: frozenset[str] = frozenset()) -> SimpleNamespace:
    """A spawner as `prepare_spawner` left it for a member of Analytical Engines."""
    workspace = Workspace("organization", ENGINES, role=role, permissions=permissions)
    return SimpleNamespace(
        environment={
            WORKSPACE_ENV: encode_workspace(workspace),
            ROLE_ACTIONS_ENV: encode_value(ROLE_ACTIONS),
        }
    )


@pytest.mark.parametrize(
    ("now", "lost"),
    [
        (frozenset({"read", "write", "execute"}), False),
        (frozenset({"read", "execute"}), True),
        (frozenset({"read"}), True),
    ],
)
def test_only_fewer_rights_stop_the_server(now: frozenset[str], lost: bool) -> None:
    assert lost_rights(started_as("org:member"), now) is lost


def test_a_viewer_made_a_member_keeps_running_with_the_rights_it_started_with() -> None:
    viewer = started_as("org:viewer", frozenset({"org:jupyter:read"}))
    assert lost_rights(viewer, frozenset({"read", "write", "execute"})) is False


def test_a_server_whose_start_the_hub_cannot_tell_is_stopped() -> None:
    """After a Hub restart the spawner's environment is gone: fail closed."""
    assert lost_rights(SimpleNamespace(environment={}), frozenset({"read", "write"})) is True
