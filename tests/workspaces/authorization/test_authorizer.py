"""Roles and permissions → read / write / execute, resource by resource."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from jupyter_lsp.handlers import LanguageServerWebSocketHandler
from jupyter_server.services.api.handlers import IdentityHandler
from jupyter_server.services.kernels.websocket import KernelWebsocketHandler
from jupyter_server_terminals.handlers import TermSocket
from jupyter_server_ydoc.handlers import YDocWebSocketHandler

from jupyter_clerk.workspaces.authorizer import (
    ClerkAuthorizer,
    RoleRefusal,
    socket_needs,
    workspace_actions,
)
from jupyter_clerk.workspaces.events import WorkspaceEventsSocket
from jupyter_clerk.workspaces.resolution import Workspace

ADA = "user_2aAda"
ORG = "org_2aAcme"


def user(workspace: Workspace | None, username: str = ADA) -> SimpleNamespace:
    return SimpleNamespace(username=username, workspace=workspace)


def org(role: str | None, *permissions: str) -> Workspace:
    return Workspace("organization", ORG, role=role, permissions=frozenset(permissions))


PERSONAL = Workspace("personal", ADA)
HANDLER = SimpleNamespace(
    path_kwargs={}, kernel_manager=None, request=SimpleNamespace(method="GET")
)


@pytest.fixture
def authorizer() -> ClerkAuthorizer:
    return ClerkAuthorizer()


def allowed(authorizer, who, action, resource) -> bool:
    try:
        return authorizer.is_authorized(HANDLER, who, action, resource)
    except RoleRefusal:
        return False


def test_personal_workspace_owner_may_do_everything(authorizer):
    assert workspace_actions(PERSONAL, authorizer.role_actions) == {"read", "write", "execute"}


@pytest.mark.parametrize("role", ["org:admin", "org:member"])
def test_admins_and_members_read_write_and_execute(authorizer, role):
    assert workspace_actions(org(role), authorizer.role_actions) == {"read", "write", "execute"}


@pytest.mark.parametrize("role", ["org:viewer", "org:billing", None])
def test_any_other_role_reads_only(authorizer, role):
    assert workspace_actions(org(role), authorizer.role_actions) == {"read"}


def test_jupyter_permissions_take_precedence_over_the_role(authorizer):
    admin_reader = org("org:admin", "org:jupyter:read")
    assert workspace_actions(admin_reader, authorizer.role_actions) == {"read"}
    guest_runner = org("org:guest", "org:jupyter:read", "org:jupyter:execute")
    assert workspace_actions(guest_runner, authorizer.role_actions) == {"read", "execute"}


def test_the_role_mapping_is_configurable():
    authorizer = ClerkAuthorizer(role_actions={"org:analyst": ["read", "execute"]})
    assert workspace_actions(org("org:analyst"), authorizer.role_actions) == {"read", "execute"}
    assert workspace_actions(org("org:member"), authorizer.role_actions) == {"read"}


def test_no_workspace_means_no_access(authorizer):
    assert not allowed(authorizer, user(None), "read", "contents")
    assert not allowed(authorizer, SimpleNamespace(username=ADA), "read", "contents")


def test_reader_cannot_write_files_or_start_kernels(authorizer):
    reader = user(org("org:viewer"))
    assert allowed(authorizer, reader, "read", "contents")
    assert not allowed(authorizer, reader, "write", "contents")
    assert not allowed(authorizer, reader, "write", "kernels")
    assert not allowed(authorizer, reader, "execute", "kernels")
    assert allowed(authorizer, reader, "read", "kernels")


def test_starting_a_kernel_needs_execute_not_write(authorizer):
    writer = user(org("org:x", "org:jupyter:read", "org:jupyter:write"))
    assert allowed(authorizer, writer, "write", "contents")
    assert not allowed(authorizer, writer, "write", "kernels")
    assert not allowed(authorizer, writer, "write", "sessions")


@pytest.mark.parametrize(("resource", "action"), [("server", "write"), ("events", "execute")])
def test_server_wide_resources_are_for_server_admins_only(resource, action):
    authorizer = ClerkAuthorizer(server_admins=["user_2aRoot"])
    assert not allowed(authorizer, user(org("org:admin")), action, resource)
    assert allowed(authorizer, user(PERSONAL, "user_2aRoot"), action, resource)


def test_reading_the_workspace_event_stream_needs_read_in_the_workspace(authorizer):
    assert allowed(authorizer, user(org("org:viewer")), "read", "events")
    assert not allowed(authorizer, user(org("org:x", "org:jupyter:write")), "read", "events")
    assert not allowed(authorizer, user(None), "read", "events")


def test_a_refusal_names_the_role_and_the_organization_in_plain_words(authorizer):
    viewer = user(Workspace("organization", ORG, slug="analytical-engines", role="org:viewer"))
    with pytest.raises(RoleRefusal) as refused:
        authorizer.is_authorized(HANDLER, viewer, "write", "contents")
    message = refused.value.log_message
    assert refused.value.status_code == 403
    assert "You are a viewer in the organization analytical-engines" in message
    assert "change" in message
    with pytest.raises(RoleRefusal) as refused:
        authorizer.is_authorized(HANDLER, viewer, "execute", "kernels")
    assert "run code" in refused.value.log_message


def test_permission_questions_from_api_me_get_an_answer_not_a_refusal(authorizer):
    asking = IdentityHandler.__new__(IdentityHandler)
    viewer = user(org("org:viewer"))
    assert authorizer.is_authorized(asking, viewer, "write", "contents") is False
    assert authorizer.is_authorized(asking, viewer, "execute", "kernels") is False


def test_shared_configuration_is_read_only_for_members(authorizer):
    member = user(org("org:admin"))
    assert allowed(authorizer, member, "read", "config")
    assert not allowed(authorizer, member, "write", "config")


def test_terminals_need_an_allowed_role_and_execute(authorizer):
    assert allowed(authorizer, user(org("org:admin")), "execute", "terminals")
    assert not allowed(authorizer, user(org("org:member")), "execute", "terminals")
    assert allowed(authorizer, user(PERSONAL), "execute", "terminals")
    assert not allowed(
        authorizer, user(org("org:admin", "org:jupyter:read")), "execute", "terminals"
    )


def test_unknown_resources_and_actions_are_refused(authorizer):
    admin = user(org("org:admin"))
    assert not allowed(authorizer, admin, "read", "something-new")
    assert not allowed(authorizer, admin, "delete", "contents")


@pytest.mark.parametrize(
    ("handler", "needs"),
    [
        (KernelWebsocketHandler, {"execute"}),
        (TermSocket, {"execute"}),
        (LanguageServerWebSocketHandler, {"execute"}),
        (WorkspaceEventsSocket, {"read"}),
        (YDocWebSocketHandler, {"read", "write", "execute"}),  # an extension's: may write
        (object, {"read", "write", "execute"}),  # unknown: every right it opened with
    ],
)
def test_what_an_open_websocket_keeps_needing(handler, needs):
    assert socket_needs(handler) == needs
