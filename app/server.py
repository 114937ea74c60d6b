"""The HTTP server process: uvicorn, with the service's own HTTP limits, as ``serve`` runs it.

Everything that depends on the choice of server lives here, so changing servers changes this
module only. uvicorn's httptools protocol bounds neither a request head's size nor how long a
client may take to send it, so ``LimitedHttpToolsProtocol`` adds, per connection:

* a request line plus headers of at most ``max_header_bytes`` and ``max_headers`` (431);
* a deadline for the head (from the connection's start, or from a request's first byte on a
  kept-alive connection) and another for the body (408, or a silent close for a connection
  that never sent anything);
* the idle keep-alive timeout (uvicorn's own timer, given our setting);
* a per-process connection cap: a connection past it is answered 503 as soon as it is accepted
  and never parsed, while the connections already open keep being served.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import resource
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any, cast

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.settings import Settings

log = logging.getLogger("todo_api.http")

# A refused connection is half-closed and drained (for this long, or this many bytes) before it
# is closed: closing a socket that still holds unread input sends a reset, which can destroy the
# answer in flight. A client that keeps sending past that gets the reset.
LINGER_SECONDS = 1.0
LINGER_BYTES = 64 * 1024
LOG_EVERY_SECONDS = 10.0  # refusals are counted in metrics; their log lines are throttled


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """What one connection may send, and for how long; how many connections one process holds."""

    max_header_bytes: int
    max_headers: int
    header_timeout: float
    body_timeout: float
    keepalive_timeout: float
    max_connections: int

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpLimits:
        return cls(
            max_header_bytes=settings.http_max_header_bytes,
            max_headers=settings.http_max_headers,
            header_timeout=settings.http_header_timeout_seconds,
            body_timeout=settings.http_body_timeout_seconds,
            keepalive_timeout=settings.http_keepalive_timeout_seconds,
            max_connections=settings.http_max_connections,
        )


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request or connection turned away by the server itself, before the application."""

    reason: str  # metric label and log field
    status: HTTPStatus
    code: str
    detail: str
    retry_after: str | None = None

    def response(self) -> bytes:
        """The whole HTTP answer, in the error shape every other response uses."""
        request_id = uuid.uuid4().hex
        body = orjson.dumps({"detail": self.detail, "code": self.code, "request_id": request_id})
        lines = [
            f"HTTP/1.1 {self.status.value} {self.status.phrase}",
            "content-type: application/json",
            f"content-length: {len(body)}",
            "connection: close",
            "cache-control: no-store",
            "x-content-type-options: nosniff",
            f"x-request-id: {request_id}",
        ]
        if self.retry_after:
            lines.append(f"retry-after: {self.retry_after}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body


HEADERS_TOO_LARGE = Refusal("header_bytes", HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                            "HEADERS_TOO_LARGE", "request line and headers are too large")
TOO_MANY_HEADERS = Refusal("header_count", HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                           "HEADERS_TOO_LARGE", "too many request headers")
HEADER_TIMEOUT = Refusal("header_timeout", HTTPStatus.REQUEST_TIMEOUT, "REQUEST_TIMEOUT",
                         "the request headers did not arrive in time")
BODY_TIMEOUT = Refusal("body_timeout", HTTPStatus.REQUEST_TIMEOUT, "REQUEST_TIMEOUT",
                       "the request body did not arrive in time")
OVER_CAPACITY = Refusal("connection_limit", HTTPStatus.SERVICE_UNAVAILABLE,
                        "SERVICE_UNAVAILABLE", "the server is at its connection limit",
                        retry_after="1")


class _TooManyHeaders(Exception):
    """Raised from the parser's header callback to stop parsing a head over the count cap."""


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, bounding what one connection may hold and for how long.

    One deadline runs at a time: the head's, then the body's; between requests uvicorn's
    keep-alive timer runs instead (it starts after a response and stops at the next byte).
    """

    def __init__(self, *args: Any, limits: HttpLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self.timeout_keep_alive = limits.keepalive_timeout  # type: ignore[assignment]
        # Bytes the current request head may still take; None while its body is being read.
        self._head_budget: int | None = limits.max_header_bytes
        # The deadline is a time, cheap to move on every request; one timer per connection
        # checks it, re-armed only when it fires early or the deadline moves before it.
        self._deadline: float | None = None
        self._on_deadline: Callable[[], None] = self._head_timed_out
        self._timer: asyncio.TimerHandle | None = None
        self._refused = False
        self._drained = 0
        self._too_many_headers = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.limits.max_connections:
            self.transport = transport  # neither counted nor parsed: answered and closed
            self._refuse(OVER_CAPACITY)
            return
        super().connection_made(transport)
        self._start_deadline(self.limits.header_timeout, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        if self._timer is not None:
            self._timer.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:  # drained, never parsed
            self._drained += len(data)
            if self._drained > LINGER_BYTES:
                self.transport.close()
            return
        # httptools buffers a header internally until it ends, so its size cannot be checked
        # in a callback: the parser is never fed more of a head than its remaining budget.
        # (A pipelined request's head starts its budget after the piece it began in: one read
        # at most, so even then a head is bounded, if not to the byte.)
        while self._head_budget is not None and len(data) > self._head_budget:
            allowed, self._head_budget = self._head_budget, 0
            self._feed(data[:allowed])
            data = data[allowed:]
            if self._refused or self.transport.is_closing():
                return
            if self._head_budget == 0:  # the head did not end within its budget
                self._refuse(HEADERS_TOO_LARGE)
                return
        if self._head_budget is not None:
            self._head_budget -= len(data)
        self._feed(data)

    def _feed(self, data: bytes) -> None:
        if self._head_budget is not None and self._deadline is None:
            # the first byte of another request on a kept-alive connection
            self._start_deadline(self.limits.header_timeout, self._head_timed_out)
        super().data_received(data)

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(self.headers) >= self.limits.max_headers:
            self._too_many_headers = True
            raise _TooManyHeaders
        super().on_header(name, value)

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers every parser error here, including the one our header callback raised
        if self._too_many_headers:
            self._refuse(TOO_MANY_HEADERS)
        else:
            super().send_400_response(msg)

    def on_headers_complete(self) -> None:
        self._head_budget = None
        self._start_deadline(self.limits.body_timeout, self._body_timed_out)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._cancel_deadline()
        self._head_budget = self.limits.max_header_bytes
        super().on_message_complete()

    def _head_timed_out(self) -> None:
        if self._head_budget == self.limits.max_header_bytes:
            self._refuse(HEADER_TIMEOUT, answer=False)  # nothing was asked: nothing to answer
        else:
            self._refuse(HEADER_TIMEOUT)

    def _body_timed_out(self) -> None:
        self._refuse(BODY_TIMEOUT, answer=not (self.cycle and self.cycle.response_started))

    def _refuse(self, refusal: Refusal, *, answer: bool = True) -> None:
        """Answer ``refusal`` (unless the response has begun), tell the application, close."""
        if self._refused or self.transport.is_closing():
            return
        self._refused = True
        self._cancel_deadline()
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True  # the application's receive() now reports a disconnect
            cycle.message_event.set()
        if answer:
            self.transport.write(refusal.response())
        _record(refusal, answered=answer)
        if self.flow is not None:
            self.flow.resume_reading()  # keep draining until the client closes or we do
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def _start_deadline(self, seconds: float, on_expiry: Callable[[], None]) -> None:
        self._deadline = self.loop.time() + seconds
        self._on_deadline = on_expiry
        if self._timer is None or self._timer.when() > self._deadline:
            self._arm_timer(self._deadline)

    def _cancel_deadline(self) -> None:
        self._deadline = None  # a timer still armed finds nothing due

    def _arm_timer(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.loop.call_at(when, self._check_deadline)

    def _check_deadline(self) -> None:
        self._timer = None
        if self._deadline is None:
            return
        if self.loop.time() < self._deadline:  # moved later since the timer was armed
            self._arm_timer(self._deadline)
            return
        self._deadline = None
        self._on_deadline()


_last_logged: dict[str, float] = {}
_unlogged: dict[str, int] = {}


def _record(refusal: Refusal, *, answered: bool) -> None:
    """Count every refusal; log at most one line per reason every LOG_EVERY_SECONDS."""
    # Imported here, in the serving process: prometheus_client fixes its storage at import,
    # and the supervising process imports this module before the metrics directory exists.
    from plumbing.metrics import HTTP_REFUSALS

    HTTP_REFUSALS.labels(refusal.reason).inc()
    now = time.monotonic()
    _unlogged[refusal.reason] = _unlogged.get(refusal.reason, 0) + 1
    if now - _last_logged.get(refusal.reason, -LOG_EVERY_SECONDS) >= LOG_EVERY_SECONDS:
        log.warning("request refused by the server: %s", refusal.detail,
                    extra={"reason": refusal.reason,
                           "status": refusal.status.value if answered else None,
                           "count": _unlogged.pop(refusal.reason)})
        _last_logged[refusal.reason] = now


def serve(settings: Settings, *, host: str, port: int, workers: int, reload: bool) -> None:
    """Run the service until it is stopped (blocking)."""
    import uvicorn

    from plumbing.logs import configure_logging

    configure_logging(settings.log_level)  # the supervising process logs JSON lines too
    limits = HttpLimits.from_settings(settings)
    _allow_open_files(limits.max_connections + 256)  # sockets past the cap must still be accepted
    protocol = functools.partial(LimitedHttpToolsProtocol, limits=limits)
    with _metrics_directory(settings, workers=1 if reload else workers):
        uvicorn.run(
            "app.main:create_app", factory=True, host=host, port=port,
            workers=None if reload else workers, reload=reload,
            http=cast(Any, protocol), ws="none",  # no WebSocket routes: upgrades are not offered
            log_config=None, access_log=False, proxy_headers=settings.is_production,
            forwarded_allow_ips=settings.forwarded_allow_ips,
            timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
        )


def _allow_open_files(wanted: int) -> None:
    """Raise this process's open-file limit to ``wanted`` when the hard limit allows it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


@contextlib.contextmanager
def _metrics_directory(settings: Settings, *, workers: int) -> Iterator[None]:
    """With several workers, a directory where each writes its samples and any scrape adds up.

    ``PROMETHEUS_MULTIPROC_DIR`` names one to use (emptied at start); otherwise several workers
    get a private temporary one, removed at exit. prometheus_client reads the variable when it
    is imported, which the workers do after this.
    """
    if settings.prometheus_multiproc_dir:
        directory = Path(settings.prometheus_multiproc_dir)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):  # samples of an earlier run would be added in
            stale.unlink()
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
        yield
        return
    if workers <= 1:
        yield
        return
    private = tempfile.mkdtemp(prefix="todo-api-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = private
    try:
        yield
    finally:
        shutil.rmtree(private, ignore_errors=True)
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
