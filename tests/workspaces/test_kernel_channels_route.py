"""The kernel WebSocket route is ours (KernelChannelsHandler: no traceback and no 500 for a
client gone during the upgrade) whenever our identity provider admits WebSockets, also when
the operator wires it with `configure_server` False."""

from __future__ import annotations

import pytest
from tornado.httputil import HTTPServerRequest

from jupyter_clerk import ClerkIdentityProvider
from jupyter_clerk.workspaces.socket_limits import ADMISSION, KernelChannelsHandler

CHANNELS = "/api/kernels/00000000-0000-0000-0000-000000000000/channels"


@pytest.fixture(params=[True, False], ids=["configured", "wired-by-the-operator"])
def jp_server_config(request, clerk_config: dict) -> dict:
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_clerk": True},
            "identity_provider_class": ClerkIdentityProvider,
        },
        "ClerkIdentityProvider": clerk_config,
        "ClerkApp": {"configure_server": request.param},
    }


def test_kernel_sockets_admitted_by_clerk_are_served_by_its_kernel_channels_handler(
    jp_serverapp, jp_base_url
):
    app = jp_serverapp.web_app
    assert isinstance(jp_serverapp.identity_provider, ClerkIdentityProvider)
    assert app.settings.get(ADMISSION) is not None  # WebSockets are admitted and counted
    request = HTTPServerRequest(method="GET", uri=jp_base_url.rstrip("/") + CHANNELS)
    handler = app.find_handler(request).handler_class
    assert issubclass(handler, KernelChannelsHandler), handler
