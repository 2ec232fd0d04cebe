"""How many WebSockets one server holds, and a clean refusal past that.

Each kernel WebSocket holds four ZMQ sockets (shell, control, iopub, stdin) in the kernel
manager's shared ZMQ context, whose default limit is 1 023 sockets, and about ten file
descriptors (each ZMQ socket's connection and mailbox, plus the TCP connection itself), under
the process's open-file limit (often 1 024). Jupyter fails with "Too many open files" at about
250 sockets. We raise both limits to what the configured number of sockets needs, and refuse
the socket after the last one with a 503 before the upgrade, never with a stack trace.

Every WebSocket counts, not only kernels': the events stream, terminals and extensions'
sockets also hold a connection, a file descriptor and a listener each, and uncounted they
would let one person use up what the limit was sized for. Each admitted socket is sized as
a kernel socket.

The server-wide limit alone would let one person hold every place and shut everyone else
out, so each person (Clerk user id, across workspaces, sessions and tabs) also has a limit of
their own, refused with a 429 of its own reason.
"""

from __future__ import annotations

import json
import logging
import resource
from collections import Counter
from collections.abc import Awaitable
from typing import Any, NoReturn

from jupyter_server.services.kernels.handlers import _kernel_id_regex
from jupyter_server.services.kernels.websocket import KernelWebsocketHandler
from tornado import web
from tornado.websocket import WebSocketHandler
from traitlets import Int, default, validate
from traitlets.config import LoggingConfigurable

from ..errors import ClerkConfigError
from ..settings_env import describe_setting, env_int

ZMQ_SOCKETS_PER_WEBSOCKET = 4
FILES_PER_WEBSOCKET = 10
# Room for everything else: kernels' own channels and processes, HTTP clients, files.
HEADROOM = 1024

log = logging.getLogger(__name__)

# The environment variable of each trait: start-up errors name both.
ENVIRONMENT = {
    "max_kernel_websockets": "CLERK_MAX_KERNEL_WEBSOCKETS",
    "max_kernel_websockets_per_person": "CLERK_MAX_KERNEL_WEBSOCKETS_PER_PERSON",
    "zmq_max_sockets": "CLERK_ZMQ_MAX_SOCKETS",
    "open_files": "CLERK_OPEN_FILES",
}


class ClerkSocketLimits(LoggingConfigurable):
    """Limits on open WebSockets (configured as c.ClerkSocketLimits.*)."""

    max_kernel_websockets = Int(
        help="WebSockets one server keeps open at once: kernels' (one per notebook tab), the "
        "events stream (one per JupyterLab tab), terminals', extensions'; the next gets 503 "
        "until one closes. The ZMQ socket and open-file limits are raised to match, each "
        "admitted socket sized as a kernel's. 0: no limit, and Jupyter's own limits alone. "
        "Env: CLERK_MAX_KERNEL_WEBSOCKETS.",
    ).tag(config=True)
    max_kernel_websockets_per_person = Int(
        help="WebSockets of every kind one person (Clerk user id, over all their workspaces, "
        "sessions and tabs) keeps open at once; the next gets 429 (reason "
        "too-many-websockets-for-person) until one of theirs closes. A JupyterLab tab holds "
        "one, a notebook or terminal one more, plus one briefly while it reconnects. "
        "0: no per-person limit. "
        "Env: CLERK_MAX_KERNEL_WEBSOCKETS_PER_PERSON.",
    ).tag(config=True)
    zmq_max_sockets = Int(
        help="Socket limit of the kernel manager's ZMQ context. Default: 4 per WebSocket "
        "plus 1 024. Env: CLERK_ZMQ_MAX_SOCKETS.",
    ).tag(config=True)
    open_files = Int(
        help="Open-file limit (RLIMIT_NOFILE) the server asks for. Default: 10 per "
        "WebSocket plus 1 024; if it is set lower, or the system allows less, fewer sockets "
        "are admitted and a warning says so. Env: CLERK_OPEN_FILES.",
    ).tag(config=True)

    @default("max_kernel_websockets")
    def _max_default(self) -> int:
        return self._env("max_kernel_websockets", 2000)

    @default("max_kernel_websockets_per_person")
    def _per_person_default(self) -> int:
        return self._env("max_kernel_websockets_per_person", 100)

    @default("zmq_max_sockets")
    def _zmq_default(self) -> int:
        return self._env(
            "zmq_max_sockets", ZMQ_SOCKETS_PER_WEBSOCKET * self.max_kernel_websockets + HEADROOM
        )

    @default("open_files")
    def _open_files_default(self) -> int:
        return self._env("open_files", FILES_PER_WEBSOCKET * self.max_kernel_websockets + HEADROOM)

    @validate(*ENVIRONMENT)
    def _validate_limit(self, proposal: dict[str, Any]) -> int:
        return _not_negative(proposal["trait"].name, proposal["value"])

    @staticmethod
    def _env(trait: str, fallback: int) -> int:
        """The variable's value; checked here, since traitlets skips `@validate` for defaults."""
        try:
            value = env_int(ENVIRONMENT[trait], fallback)
        except ValueError as exc:
            raise ClerkConfigError(f"{_setting(trait)}: {exc}") from None
        return _not_negative(trait, value)

    def raise_open_files(self) -> int:
        """Raises the soft open-file limit toward `open_files`; returns the sockets it allows."""
        wanted = self.max_kernel_websockets
        if wanted == 0:
            return 0
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target, infinite = self.open_files, resource.RLIM_INFINITY
        if soft != infinite and soft < target:
            # First also the hard limit (allowed to root), else as far as the hard limit goes.
            attempts = [(target, hard if hard == infinite else max(hard, target))]
            attempts.append((target if hard == infinite else min(target, hard), hard))
            for limits in attempts:
                try:
                    resource.setrlimit(resource.RLIMIT_NOFILE, limits)
                    break
                except (ValueError, OSError):
                    continue
            soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        # The operator's own `open_files` caps the sockets as a smaller system limit does.
        files = self.open_files if soft == infinite else min(soft, self.open_files)
        allowed = min(wanted, _sockets_within(files, FILES_PER_WEBSOCKET))
        if allowed < wanted:
            self.log.warning(
                "Admitting at most %d WebSockets, not %d: each needs about %d open files "
                "and the limit is %d (%s: %d; the system's, `ulimit -Hn`: %s).",
                allowed,
                wanted,
                FILES_PER_WEBSOCKET,
                files,
                _setting("open_files"),
                self.open_files,
                "unlimited" if soft == infinite else soft,
            )
        return allowed

    def raise_zmq_sockets(self, context: Any, wanted_websockets: int) -> int:
        """Raises the context's socket limit (effective only before its first socket)."""
        if wanted_websockets == 0 or context is None:
            return wanted_websockets
        import zmq

        try:
            if context.get(zmq.MAX_SOCKETS) < self.zmq_max_sockets:
                context.set(zmq.MAX_SOCKETS, self.zmq_max_sockets)
        except zmq.ZMQError as exc:
            self.log.warning("Could not raise the ZMQ socket limit: %s", exc)
        limit = context.get(zmq.MAX_SOCKETS)
        allowed = min(wanted_websockets, _sockets_within(limit, ZMQ_SOCKETS_PER_WEBSOCKET))
        if allowed < wanted_websockets:
            self.log.warning(
                "The ZMQ context allows %d sockets, not the %d that %d WebSockets need "
                "(c.ClerkSocketLimits.zmq_max_sockets, CLERK_ZMQ_MAX_SOCKETS): admitting at "
                "most %d.",
                limit,
                self.zmq_max_sockets,
                wanted_websockets,
                allowed,
            )
        return allowed


def _setting(trait: str) -> str:
    return describe_setting("ClerkSocketLimits", trait, ENVIRONMENT[trait])


def _not_negative(trait: str, value: int) -> int:
    if value < 0:
        raise ClerkConfigError(f"{_setting(trait)} must not be negative; got {value}.")
    return value


def _sockets_within(limit: int, per_socket: int) -> int:
    """WebSockets that fit in a limit, leaving headroom (half of a small limit)."""
    return max(limit - HEADROOM, limit // 2) // per_socket


ADMISSION = "jupyter_clerk_websocket_admission"  # the server's web_app setting
RETRY_AFTER = "30"


class WebSocketAdmission:
    """One server's WebSockets (kernels, events, terminals, extensions'), in all and per
    person, and their limits (None: no limit of ours).

    Per server, in its settings: a process may run several servers (tests, benchmarks), and
    one's sockets must not count against another's limit."""

    def __init__(self, limit: int | None, per_person: int | None = None) -> None:
        self.limit = limit
        self.per_person = per_person
        # Each place, held from admission (before the upgrade) by its request's handler, whose
        # person it names, until the handler gives it back: the upgrade refused or failed,
        # or the socket closed. Strong references, so the counts are exact; a weak one would
        # not help, since jupyter_server keeps kernel handlers in a class-level dictionary.
        self.admitted: dict[WebSocketHandler, str] = {}
        self._held: Counter[str] = Counter()

    def full(self) -> bool:
        return self.limit is not None and len(self.admitted) >= self.limit

    def held_by(self, person: str) -> int:
        return self._held[person]

    def full_for(self, person: str) -> bool:
        return self.per_person is not None and self.held_by(person) >= self.per_person

    def admit(self, handler: WebSocketHandler, person: str) -> None:
        if handler not in self.admitted:
            self.admitted[handler] = person
            self._held[person] += 1

    def release(self, handler: WebSocketHandler) -> None:
        """Gives the handler's place back; once, however many ways its request ends."""
        person = self.admitted.pop(handler, None)
        if person is not None:
            self._held[person] -= 1
            if not self._held[person]:
                del self._held[person]


def _refuse(handler: web.RequestHandler, status: int, reason: str, message: str) -> NoReturn:
    handler.set_status(status)
    handler.set_header("Retry-After", RETRY_AFTER)
    handler.set_header("Content-Type", "application/json")
    raise web.Finish(json.dumps({"message": message, "reason": reason}))


def admit_websocket(handler: web.RequestHandler, person: str) -> None:
    """Takes a place for the WebSocket this authenticated request asks for, or refuses it
    (429 past the person's limit, 503 past the server's) before the upgrade.

    Called by the identity provider, which sees every WebSocket request whatever its
    handler: kernel channels, events, terminals, language servers, any extension's."""
    admission: WebSocketAdmission | None = handler.settings.get(ADMISSION)
    if admission is None or not isinstance(handler, WebSocketHandler):
        return
    if handler in admission.admitted or _connection_closed(handler):
        # Ended while it was being authenticated: tornado may have reported the close (its
        # one `on_close`) before the hooks below existed, and nothing would give a place back.
        return
    if admission.full_for(person):
        log.warning(
            "Refused a WebSocket of %s: they have %d open, the per-person limit",
            person,
            admission.per_person,
        )
        _refuse(
            handler,
            429,
            "too-many-websockets-for-person",
            "You have as many open connections (notebooks, terminals, JupyterLab tabs) as one "
            "person may have here; close some tabs or try again shortly.",
        )
    if admission.full():
        log.warning("Refused a WebSocket: %d are open, the limit", admission.limit)
        _refuse(
            handler,
            503,
            "too-many-websockets",
            "This server has as many open connections (notebooks, terminals, JupyterLab "
            "tabs) as it is configured for; close a tab or try again shortly.",
        )
    admission.admit(handler, person)
    _release_when_done(handler, admission)


def _connection_closed(handler: web.RequestHandler) -> bool:
    stream = getattr(handler.request.connection, "stream", None)
    return stream is None or stream.closed()


def _release_when_done(handler: WebSocketHandler, admission: WebSocketAdmission) -> None:
    """Gives the place back however the request ends (this request's handler only):
    - finished without the upgrade (tornado refuses one without an Upgrade header or a
      Sec-WebSocket-Key, or with a foreign Origin; authorization fails): `on_finish`, not 101;
    - upgraded, then closed (cleanly or the TCP connection dropped), or dropped before the
      upgrade: tornado calls `on_close` once;
    - upgraded, then `open` failed: tornado aborts the socket without calling `on_close`."""
    finish, close, open_ = handler.on_finish, handler.on_close, handler.open

    def on_finish() -> Any:
        if handler.get_status() != 101:
            admission.release(handler)
        return finish()

    def on_close() -> Any:
        admission.release(handler)
        return close()

    def on_open(*args: Any, **kwargs: Any) -> Awaitable[None] | None:
        try:
            opened = open_(*args, **kwargs)
        except BaseException:
            admission.release(handler)
            raise
        return None if opened is None else _released_on_failure(opened)

    async def _released_on_failure(opened: Awaitable[None]) -> None:
        try:
            await opened
        except BaseException:
            admission.release(handler)
            raise

    handler.on_finish, handler.on_close, handler.open = on_finish, on_close, on_open


class KernelChannelsHandler(KernelWebsocketHandler):
    """Jupyter's kernel WebSocket handler, for a client that leaves during the upgrade.

    Gone during authentication: tornado calls `on_close` before Jupyter has made the
    connection, and Jupyter's handler failed on the missing attribute, logging a traceback for
    an ordinary hang-up. Gone while the kernel was asked for its info: the connection is torn
    down, and the upgrade must not go on without it (Jupyter answered 500)."""

    async def pre_get(self) -> None:
        await super().pre_get()
        if _connection_closed(self):
            raise web.HTTPError(400, "The client closed the connection during the upgrade.")

    def on_close(self) -> None:
        if getattr(self, "connection", None) is not None:
            super().on_close()


KERNEL_CHANNELS = (rf"/api/kernels/{_kernel_id_regex}/channels", KernelChannelsHandler)
