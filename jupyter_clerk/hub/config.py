"""One call that wires a Hub for Clerk: `configure_hub(c, ...)` in `jupyterhub_config.py`.

Used by the demo, the tests and the Helm values (`hub.extraConfig`), so that the three run the
same configuration: the authenticator, one named server per organization, the custom scope of
the revocation endpoint and the webhook service with only that scope.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from .revocations import REVOKE_SCOPE

WEBHOOK_SERVICE = "clerk-webhooks"


def configure_hub(
    c: Any,
    *,
    webhook_service_url: str | None = None,
    webhook_secret: str | None = None,
    webhook_bind_ip: str | None = None,
) -> None:
    """`webhook_service_url` (e.g. http://127.0.0.1:10101) runs the webhook service there;
    its signing secret comes from `webhook_secret` or the Hub's CLERK_WEBHOOK_SIGNING_SECRET.
    `webhook_bind_ip` (e.g. 0.0.0.0 in a pod) when the URL's host is a name to be reached by."""
    c.JupyterHub.authenticator_class = "clerk"
    c.JupyterHub.allow_named_servers = True
    c.JupyterHub.custom_scopes = {
        **c.JupyterHub.get("custom_scopes", {}),
        REVOKE_SCOPE: {"description": "Act on Clerk's revocations (sessions, memberships, orgs)."},
    }
    if webhook_service_url is None:
        return
    secret = webhook_secret or os.environ.get("CLERK_WEBHOOK_SIGNING_SECRET", "")
    if not secret.startswith("whsec_"):
        raise ValueError(
            "The clerk-webhooks service needs the endpoint's signing secret (whsec_…): "
            "pass webhook_secret or set CLERK_WEBHOOK_SIGNING_SECRET."
        )
    service = {
        "name": WEBHOOK_SERVICE,
        "url": webhook_service_url,
        "command": [sys.executable, "-m", "jupyter_clerk.hub.webhook_service"],
        # The service's only Clerk secret; single-user servers never see it (spawn.py).
        "environment": {"CLERK_WEBHOOK_SIGNING_SECRET": secret},
    }
    if webhook_bind_ip:
        service["environment"]["CLERK_WEBHOOK_BIND_IP"] = webhook_bind_ip
    c.JupyterHub.services = [*c.JupyterHub.get("services", []), service]
    c.JupyterHub.load_roles = [
        *c.JupyterHub.get("load_roles", []),
        {"name": WEBHOOK_SERVICE, "scopes": [REVOKE_SCOPE], "services": [WEBHOOK_SERVICE]},
    ]
