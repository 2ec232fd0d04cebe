"""What every request handler of the instance shares: its context, Clerk-shaped errors,
secret-key authentication and request-body parsing."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from tornado import httputil, web

from .data import DirectoryData
from .errors import ClerkAPIError, unauthenticated
from .faults import Call, FaultPlan
from .frontend_state import FrontendState
from .origins import OriginPolicy
from .session_tokens import SessionTokenMinter
from .signing import KeyRing
from .state import SessionStore

log = logging.getLogger(__name__)

_GENERIC_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "resource_not_found",
    405: "method_not_allowed",
    413: "request_body_too_large",
}


@dataclass
class InstanceContext:
    """Everything a handler may read or change, handed over in the application settings."""

    url: str
    secret_key: str
    data: DirectoryData
    store: SessionStore
    keyring: KeyRing
    minter: SessionTokenMinter
    origins: OriginPolicy
    token_lifetime: int
    faults: FaultPlan = field(default_factory=FaultPlan)
    frontend: FrontendState = field(default_factory=FrontendState)


class InstanceHandler(web.RequestHandler):
    """Base handler: errors are always Clerk's JSON error body, never a traceback."""

    @property
    def ctx(self) -> InstanceContext:
        return self.settings["clerk_instance"]

    def write_json(self, body: dict[str, Any], status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if not isinstance(exc, ClerkAPIError):
            message = httputil.responses.get(status_code, "Error")
            detail = exc.log_message if isinstance(exc, web.HTTPError) else None
            code = _GENERIC_CODES.get(status_code, "internal_clerk_error")
            exc = ClerkAPIError(status_code, code, message.lower(), detail or message)
        for name, value in exc.headers.items():
            self.set_header(name, value)
        self.write_json(exc.to_json(), exc.status)

    def log_exception(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(value, ClerkAPIError):
            log.info(
                "%s %s -> %d %s", self.request.method, self.request.path, value.status, value.code
            )
        else:
            super().log_exception(typ, value, tb)


class BackendAPIHandler(InstanceHandler):
    """Backend API: authenticated by `Authorization: Bearer <secret key>`, not by cookies,
    so there is nothing for a cross-site request to forge and no XSRF token to check."""

    def check_xsrf_cookie(self) -> None:
        return

    async def prepare(self) -> None:
        self._authenticate()
        call = Call(
            self.request.method or "",
            self.request.path,
            self.request.headers.get("Clerk-API-Version"),
        )
        fault = self.ctx.faults.take(call)
        if fault is None:
            return
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.status is not None:
            headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
            code = "too_many_requests" if fault.status == 429 else "injected_fault"
            raise ClerkAPIError(
                fault.status, code, "injected fault", "A fault queued by a test.", headers=headers
            )

    def _authenticate(self) -> None:
        header = self.request.headers.get("Authorization", "")
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer" or not presented:
            raise unauthenticated("The request is missing the Authorization: Bearer <secret key>.")
        if not hmac.compare_digest(presented.encode(), self.ctx.secret_key.encode()):
            raise unauthenticated("The provided Clerk Secret Key is invalid.")

    def body_params(self) -> dict[str, Any]:
        """The request's JSON object or form fields; an empty body is an empty object."""
        content_type = self.request.headers.get("Content-Type", "")
        if not self.request.body:
            return {}
        if content_type.startswith("application/json"):
            try:
                body = json.loads(self.request.body)
            except (ValueError, RecursionError):
                body = None
            if not isinstance(body, dict):
                raise ClerkAPIError(
                    400, "malformed_request", "malformed request", "The body is not a JSON object."
                )
            return body
        return {name: self.get_body_argument(name) for name in self.request.body_arguments}
