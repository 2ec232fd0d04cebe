"""A hub-mode single-user server authorizes with the Hub's role mapping, the one that also
decided its mounts, and refuses to start with a different one of its own."""

from __future__ import annotations

import pytest
from jupyter_server.auth.identity import IdentityProvider
from traitlets.config import Config

from jupyter_clerk.hub.server_env import (
    ROLE_ACTIONS_ENV,
    WORKSPACE_ENV,
    encode_value,
    encode_workspace,
    role_actions_from_environment,
)
from jupyter_clerk.hub.singleuser import HubWorkspaceAuthorizer
from jupyter_clerk.workspaces.resolution import Workspace
from tests.hub.stack import ENGINES

HUBS = {"org:member": ["read"], "org:analyst": ["read", "write", "execute"]}


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment the Hub gives a member of Analytical Engines."""
    workspace = Workspace("organization", ENGINES, role="org:member", permissions=frozenset())
    monkeypatch.setenv(WORKSPACE_ENV, encode_workspace(workspace))
    monkeypatch.setenv(ROLE_ACTIONS_ENV, encode_value(HUBS))


def authorizer(config: Config | None = None) -> HubWorkspaceAuthorizer:
    return HubWorkspaceAuthorizer(config=config or Config(), identity_provider=IdentityProvider())


def test_the_server_authorizes_with_the_hubs_role_mapping(spawned: None) -> None:
    assert authorizer().role_actions == HUBS


def test_a_different_mapping_in_the_servers_own_config_refuses_to_start(spawned: None) -> None:
    config = Config({"ClerkAuthorizer": {"role_actions": {"org:member": ["read", "write"]}}})
    with pytest.raises(RuntimeError, match=r"c\.ClerkAuthenticator\.role_actions"):
        authorizer(config)
    # The same mapping in both places is no conflict.
    assert authorizer(Config({"ClerkAuthorizer": {"role_actions": HUBS}})).role_actions == HUBS


MALFORMED = [None, "", "not base64!", encode_value(["read"]), encode_value({"org:member": "read"})]


@pytest.mark.parametrize("raw", MALFORMED)
def test_a_missing_or_malformed_mapping_refuses_to_start(raw: str | None) -> None:
    environ = {} if raw is None else {ROLE_ACTIONS_ENV: raw}
    with pytest.raises(RuntimeError, match=ROLE_ACTIONS_ENV):
        role_actions_from_environment(environ)
