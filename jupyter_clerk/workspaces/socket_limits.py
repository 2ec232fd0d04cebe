"""How many kernel WebSockets one server holds, and a clean refusal past that.

Each kernel WebSocket holds four ZMQ sockets (shell, control, iopub, stdin) in the kernel
manager's shared ZMQ context, whose default limit is 1 023 sockets, and about ten file
descriptors (each ZMQ socket's connection and mailbox, plus the TCP connection itself), under
the process's open-file limit (often 1 024). Jupyter fails with "Too many open files" at about
250 sockets. We raise both limits to what the configured number of sockets needs, and refuse
the socket after the last one with a 503 before the upgrade, never with a stack trace.

The server-wide limit alone would let one person hold every place and shut everyone else
out, so each person (Clerk user id, across workspaces, sessions and tabs) also has a limit of
their own, refused with a 429 of its own reason.
"""

from __future__ import annotations

import json
import logging
import resource
from collections import Counter
from typing import Any, NoReturn

from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from jupyter_server.services.kernels.handlers import _kernel_id_regex
from jupyter_server.services.kernels.websocket import KernelWebsocketHandler
from tornado import web
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
    """Limits on open kernel WebSockets (configured as c.ClerkSocketLimits.*)."""

    max_kernel_websockets = Int(
        help="Kernel WebSockets one server keeps open at once (every browser tab with a "
        "notebook holds one); the next gets 503 until one closes. The ZMQ socket and "
        "open-file limits are raised to match. 0 leaves Jupyter's own limits alone. "
        "Env: CLERK_MAX_KERNEL_WEBSOCKETS.",
    ).tag(config=True)
    max_kernel_websockets_per_person = Int(
        help="Kernel WebSockets one person (Clerk user id, over all their workspaces, sessions "
        "and tabs) keeps open at once; the next gets 429 (reason "
        "too-many-websockets-for-person) until one of theirs closes. A notebook tab holds one, "
        "plus one briefly while it reconnects. 0: no per-person limit. "
        "Env: CLERK_MAX_KERNEL_WEBSOCKETS_PER_PERSON.",
    ).tag(config=True)
    zmq_max_sockets = Int(
        help="Socket limit of the kernel manager's ZMQ context. Default: 4 per kernel WebSocket "
        "plus 1 024. Env: CLERK_ZMQ_MAX_SOCKETS.",
    ).tag(config=True)
    open_files = Int(
        help="Open-file limit (RLIMIT_NOFILE) the server asks for. Default: 10 per kernel "
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
                "Admitting at most %d kernel WebSockets, not %d: each needs about %d open files "
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
                "The ZMQ context allows %d sockets, not the %d that %d kernel WebSockets need "
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
    """One server's kernel WebSockets, in all and per person, and their limits (None: no
    limit of ours).

    Per server, in its settings: a process may run several servers (tests, benchmarks), and
    one's sockets must not count against another's limit."""

    def __init__(self, limit: int | None, per_person: int | None = None) -> None:
        self.limit = limit
        self.per_person = per_person
        # Each place, held from admission (before the upgrade) by its connection, whose
        # person it names, until the connection gives it back: the upgrade refused or failed,
        # or the socket closed. Strong references, so the counts are exact; a weak one would
        # not help, since jupyter_server keeps handlers in a class-level dictionary.
        self.admitted: dict[BoundedKernelConnection, str] = {}
        self._held: Counter[str] = Counter()

    def full(self) -> bool:
        return self.limit is not None and len(self.admitted) >= self.limit

    def held_by(self, person: str) -> int:
        return self._held[person]

    def full_for(self, person: str) -> bool:
        return self.per_person is not None and self.held_by(person) >= self.per_person

    def admit(self, connection: BoundedKernelConnection, person: str) -> None:
        if connection not in self.admitted:
            self.admitted[connection] = person
            self._held[person] += 1

    def release(self, connection: BoundedKernelConnection) -> None:
        """Gives the connection's place back; once, however many ways its request ends."""
        person = self.admitted.pop(connection, None)
        if person is not None:
            self._held[person] -= 1
            if not self._held[person]:
                del self._held[person]


def _refuse(handler: web.RequestHandler, status: int, reason: str, message: str) -> NoReturn:
    handler.set_status(status)
    handler.set_header("Retry-After", RETRY_AFTER)
    handler.set_header("Content-Type", "application/json")
    raise web.Finish(json.dumps({"message": message, "reason": reason}))


def _refuse_if_client_gone(handler: web.RequestHandler) -> None:
    """Ends an upgrade whose client has already closed the TCP connection.

    tornado calls the handler's `on_close` (which gives the place back, through
    `disconnect`) once, when the connection closes. A client gone while the upgrade awaited
    Clerk got that call before this connection existed, so nothing would ever release the
    place taken next; one gone while the kernel was asked for its info has had its
    connection torn down, and the upgrade must not go on without it (Jupyter answers 500).
    """
    stream = getattr(handler.request.connection, "stream", None)
    if stream is not None and stream.closed():
        raise web.HTTPError(400, "The client closed the connection during the upgrade.")


class BoundedKernelConnection(ZMQChannelsWebsocketConnection):
    """Jupyter's kernel WebSocket connection, refusing past the person's or server's limit."""

    _person = ""

    async def prepare(self) -> None:
        handler = self.websocket_handler
        admission: WebSocketAdmission | None = handler.settings.get(ADMISSION)
        if admission is None:
            await super().prepare()
            return
        # The handler's user is authenticated and authorized before the connection exists.
        self._person = handler.current_user.username
        _refuse_if_client_gone(handler)
        if admission.full_for(self._person):
            self.log.warning(
                "Refused a kernel WebSocket of %s: they have %d open, the per-person limit",
                self._person,
                admission.per_person,
            )
            _refuse(
                handler,
                429,
                "too-many-websockets-for-person",
                "You have as many open notebook connections as one person may have here; "
                "close some notebook tabs or try again shortly.",
            )
        if admission.full():
            self.log.warning("Refused a kernel WebSocket: %d are open, the limit", admission.limit)
            _refuse(
                handler,
                503,
                "too-many-websockets",
                "This server has as many open notebook connections as it is configured for; "
                "close a notebook tab or try again shortly.",
            )
        admission.admit(self, self._person)
        self._release_unless_upgraded(handler, admission)
        try:
            await super().prepare()
            _refuse_if_client_gone(handler)
        except BaseException:
            admission.release(self)
            raise

    def _release_unless_upgraded(
        self, handler: web.RequestHandler, admission: WebSocketAdmission
    ) -> None:
        """Gives the place back when tornado refuses the upgrade after admission (no Upgrade
        header, no Sec-WebSocket-Key, a foreign Origin): it then finishes the request without
        ever calling `on_close`. A successful upgrade finishes with 101 before `open`, and
        keeps its place until `disconnect`."""
        finish = handler.on_finish

        def on_finish() -> None:
            if handler.get_status() != 101:
                admission.release(self)
            finish()

        handler.on_finish = on_finish  # this request's handler only

    def disconnect(self) -> None:
        admission: WebSocketAdmission | None = self.websocket_handler.settings.get(ADMISSION)
        if admission is not None:
            admission.release(self)
        super().disconnect()


class KernelChannelsHandler(KernelWebsocketHandler):
    """Jupyter's kernel WebSocket handler, for a client that leaves during authentication.

    tornado then calls `on_close` before Jupyter has made the connection, and Jupyter's
    handler fails on the missing attribute, logging a traceback for an ordinary hang-up;
    the connection's own `prepare` refuses the rest of that upgrade."""

    def on_close(self) -> None:
        if getattr(self, "connection", None) is not None:
            super().on_close()


KERNEL_CHANNELS = (rf"/api/kernels/{_kernel_id_regex}/channels", KernelChannelsHandler)
