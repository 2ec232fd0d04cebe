"""An async client for the few Clerk Backend API calls the product makes.

Bounded in every direction, because it sits behind request handling: each attempt has a
timeout, timeouts and 5xx are retried a bounded number of times with backoff, a 429 is
waited out only if its Retry-After is short, and pagination stops at a page cap. Ids are
validated before they are put in a path, and the secret key appears only in the
Authorization header: never in a URL, a log line, an exception or a repr.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import math
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlencode, urlparse

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest, HTTPResponse

from ..auth.claims import SESSION_ID, USER_ID, valid_id
from ..hosts import is_loopback_host
from ..logscrub import scrub
from .models import (
    Client,
    MalformedResponse,
    Membership,
    Session,
    User,
    parse_client,
    parse_membership,
    parse_session,
    parse_user,
)

# The Backend API version @clerk/backend sends (packages/backend/src/constants.ts).
CLERK_API_VERSION = "2026-05-12"
USER_AGENT = "jupyter-clerk/0.1"
PAGE_SIZE = 100
MAX_PAGES = 100
MAX_CONNECTIONS = 20
# The longest Retry-After believed: past it, one buggy or hostile 429 would lock a person's
# membership lookups (and the revalidation of their open sockets) out for hours.
MAX_RETRY_AFTER = 60.0
_MAX_DETAIL = 200

log = logging.getLogger(__name__)

# What a caller holding a share of Clerk's rate limit (the revalidation round) waits on before
# each request it causes. Set in the caller's own context, so its retries, 429 waits, pages and
# the lookups it starts are all counted, and nobody else's requests are.
request_budget: ContextVar[Callable[[], Awaitable[None]] | None] = ContextVar(
    "clerk_request_budget", default=None
)


async def spend_request_budget() -> None:
    """Waits until the caller's budget allows one more request to Clerk (if it has one)."""
    spend = request_budget.get()
    if spend is not None:
        await spend()


class BackendAPIError(Exception):
    """A call to Clerk failed. `status` is the HTTP status (None: no answer), `code` Clerk's
    error code; the message never holds the secret key or a token."""

    def __init__(self, status: int | None, code: str, detail: str = "") -> None:
        self.status = status
        self.code = code
        self.detail = scrub(detail)[:_MAX_DETAIL]
        super().__init__(f"Clerk Backend API {status or 'no answer'} {code}: {self.detail}")


class NotFound(BackendAPIError):
    """404: no such user, session or client."""


class Unauthorized(BackendAPIError):
    """401/403: the secret key is wrong or lacks access (a configuration problem)."""


class BackendUnavailable(BackendAPIError):
    """No usable answer: timeouts, connection errors or 5xx, after the retries."""


class RateLimited(BackendUnavailable):
    """429 with a Retry-After longer than we are willing to wait (or no retries left).

    Every caller backs off by `retry_after`, so its bound is kept here, once: at most
    MAX_RETRY_AFTER; None when there was no usable value (none, negative, not a number),
    and the caller uses its own default back-off."""

    def __init__(self, retry_after: float | None, detail: str = "") -> None:
        super().__init__(429, "too_many_requests", detail)
        if retry_after is not None and not retry_after >= 0:  # negative, or NaN
            retry_after = None
        self.retry_after = None if retry_after is None else min(retry_after, MAX_RETRY_AFTER)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date); None if unreadable."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"[0-9]{1,9}(\.[0-9]{1,6})?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _require_id(pattern: re.Pattern[str], value: object, what: str) -> str:
    if not valid_id(pattern, value):
        raise ValueError(f"not a Clerk {what} id")  # the value is not echoed: it may be a token
    return value  # type: ignore[return-value]


def _error_of(response: HTTPResponse) -> tuple[str, str]:
    """Clerk's first error code and long message, from `{"errors": [...]}`."""
    try:
        errors = json.loads(response.body or b"{}").get("errors") or [{}]
        first = errors[0] if isinstance(errors[0], dict) else {}
    except (ValueError, AttributeError, TypeError):
        first = {}
    code = first.get("code") if isinstance(first.get("code"), str) else "unknown_error"
    detail = first.get("long_message") or first.get("message") or ""
    return code, detail if isinstance(detail, str) else ""


class BackendAPI:
    """One Clerk instance's Backend API, authenticated with its secret key."""

    def __init__(
        self,
        api_url: str,
        secret_key: str,
        *,
        timeout: float = 5.0,
        max_retries: int = 2,
        max_retry_after: float = 2.0,
        backoff: float = 0.2,
        page_size: int = PAGE_SIZE,
    ) -> None:
        parsed = urlparse(api_url)
        if parsed.scheme != "https" and not (
            parsed.scheme == "http" and is_loopback_host(parsed.hostname)
        ):
            raise ValueError("the Backend API URL must be https:// (http only on loopback)")
        if not secret_key:
            raise ValueError("a Clerk secret key is required for the Backend API")
        if not (timeout > 0 and math.isfinite(timeout)) or max_retries < 0 or backoff < 0:
            raise ValueError("timeout must be positive; retries and backoff not negative")
        if not 1 <= page_size <= 500:
            raise ValueError("page_size must be between 1 and 500 (Clerk's maximum)")
        self.api_url = api_url.rstrip("/")
        self._secret_key = secret_key
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_retry_after = max_retry_after
        self.backoff = backoff
        self.page_size = page_size
        self._http: AsyncHTTPClient | None = None

    def __repr__(self) -> str:
        return f"BackendAPI({self.api_url!r}, secret_key=<redacted>)"

    # --- the calls --------------------------------------------------------------------

    async def get_user(self, user_id: str) -> User:
        user_id = _require_id(USER_ID, user_id, "user")
        return self._parsed(parse_user, await self._request("GET", f"/v1/users/{user_id}"))

    async def user_memberships(self, user_id: str) -> list[Membership]:
        """Every organization membership of the user, all pages."""
        user_id = _require_id(USER_ID, user_id, "user")
        path = f"/v1/users/{user_id}/organization_memberships"
        memberships: list[Membership] = []
        for page in range(MAX_PAGES):
            query = {"limit": self.page_size, "offset": page * self.page_size}
            body = await self._request("GET", path, query)
            data, total = body.get("data"), body.get("total_count")
            if not isinstance(data, list) or isinstance(total, bool) or not isinstance(total, int):
                raise BackendAPIError(200, "malformed_response", "not a paginated list")
            memberships.extend(self._parsed(parse_membership, item) for item in data)
            if not data or len(memberships) >= total:
                return memberships
        raise BackendAPIError(200, "too_many_pages", f"more than {MAX_PAGES} pages")

    async def get_session(self, session_id: str) -> Session:
        session_id = _require_id(SESSION_ID, session_id, "session")
        return self._parsed(parse_session, await self._request("GET", f"/v1/sessions/{session_id}"))

    async def verify_client(self, token: str) -> Client:
        """The client a Clerk client token (the `__client` JWT) belongs to."""
        if not isinstance(token, str) or not token:
            raise ValueError("a client token is required")
        body = await self._request("POST", "/v1/clients/verify", body={"token": token})
        return self._parsed(parse_client, body)

    async def create_session_token(
        self, session_id: str, *, expires_in_seconds: int | None = None
    ) -> str:
        session_id = _require_id(SESSION_ID, session_id, "session")
        params = {} if expires_in_seconds is None else {"expires_in_seconds": expires_in_seconds}
        body = await self._request("POST", f"/v1/sessions/{session_id}/tokens", body=params)
        jwt = body.get("jwt")
        if not isinstance(jwt, str) or not jwt:
            raise BackendAPIError(200, "malformed_response", "no jwt in the token response")
        return jwt

    # --- transport --------------------------------------------------------------------

    @staticmethod
    def _parsed(parse: Any, value: object) -> Any:
        try:
            return parse(value)
        except MalformedResponse as exc:
            raise BackendAPIError(200, "malformed_response", str(exc)) from None

    async def _request(
        self,
        method: str,
        path: str,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        url = self.api_url + path + (f"?{urlencode(query)}" if query else "")
        for attempt in range(self.max_retries + 1):
            retries_left = attempt < self.max_retries
            await spend_request_budget()
            response = await self._attempt(method, url, body)
            if response is None or response.code >= 500:
                status = None if response is None else response.code
                if not retries_left:
                    code, detail = ("timeout", "") if response is None else _error_of(response)
                    raise BackendUnavailable(status, code, f"{method} {path}: {detail}")
                await asyncio.sleep(self._backoff(attempt))
                continue
            if response.code == 429:
                wait = parse_retry_after(response.headers.get("Retry-After"))
                if wait is None or wait > self.max_retry_after or not retries_left:
                    raise RateLimited(wait, f"{method} {path}")
                log.info("Clerk rate limit on %s %s: retrying in %.1f s", method, path, wait)
                await asyncio.sleep(wait)
                continue
            return self._result(method, path, response)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _attempt(
        self, method: str, url: str, body: Mapping[str, Any] | None
    ) -> HTTPResponse | None:
        """One HTTP exchange; None when there was no answer (timeout, refused, reset)."""
        request = HTTPRequest(
            url,
            method=method,
            headers={
                "Authorization": f"Bearer {self._secret_key}",
                "Clerk-API-Version": CLERK_API_VERSION,
                "User-Agent": USER_AGENT,
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            body=None if method == "GET" else json.dumps(body or {}),
            connect_timeout=self.timeout,
            request_timeout=self.timeout,
            follow_redirects=False,
        )
        if self._http is None:
            # Our own client and connection slots: the shared one queues our calls behind the
            # server's other fetches, which may themselves be waiting on us (a deadlock).
            self._http = AsyncHTTPClient(force_instance=True, max_clients=MAX_CONNECTIONS)
        try:
            return await self._http.fetch(request, raise_error=False)
        except (HTTPClientError, OSError, asyncio.TimeoutError) as exc:
            # The exception text can hold the URL but never the headers: safe to log.
            log.info("Clerk Backend API %s %s: no answer (%s)", method, url, type(exc).__name__)
            return None

    @staticmethod
    def _result(method: str, path: str, response: HTTPResponse) -> dict[str, Any]:
        if response.code >= 300:
            code, detail = _error_of(response)
            kind = {404: NotFound, 401: Unauthorized, 403: Unauthorized}.get(
                response.code, BackendAPIError
            )
            raise kind(response.code, code, f"{method} {path}: {detail}")
        try:
            result = json.loads(response.body)
        except (ValueError, UnicodeDecodeError):
            result = None
        if not isinstance(result, dict):
            raise BackendAPIError(response.code, "malformed_response", "not a JSON object")
        return result

    def _backoff(self, attempt: int) -> float:
        """Exponential, capped, with jitter so many waiting callers do not retry in step."""
        return min(2.0, self.backoff * 2**attempt) * (0.5 + random.random() / 2)  # noqa: S311
