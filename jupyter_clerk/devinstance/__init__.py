"""A local Clerk-compatible instance: run the product and its tests with no Clerk account.

Development only: it signs anyone in as any demo user. Never expose it to the internet.
"""

from __future__ import annotations

from .data import DirectoryData, load_data
from .instance import DevInstance
from .session_tokens import encode_org_permissions
from .state import Client, Session

__all__ = [
    "Client",
    "DevInstance",
    "DirectoryData",
    "Session",
    "encode_org_permissions",
    "load_data",
]
