"""Pure ASGI middleware: request ids, trailing slashes, security headers, the request log line,
HEAD requests, body limits."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plumbing import metrics
from plumbing.inflight import release_slot
from plumbing.logs import request_fields
from plumbing.problems import PayloadTooLarge

access = logging.getLogger("todo_api.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)


class RequestMiddleware:
    """Everything every HTTP request gets, before and after routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/"):  # accepted as is, never redirected
            scope["path"] = path.rstrip("/") or "/"
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        fields = request_fields.set({"request_id": request_id, "path": scope["path"]})
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                extra = {"x-request-id": request_id, **state.get("rate_limit_headers", {})}
                message["headers"] = _with_headers(message.get("headers", []), extra)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            release_slot(state)
            _log_request(scope, status, time.perf_counter() - started, request_id)
            request_fields.reset(fields)


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _REQUEST_ID.match(text) else None
    return None


def _with_headers(headers: list[tuple[bytes, bytes]], values: dict[str, str]
                  ) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    extra = [(name.lower().encode(), value.encode()) for name, value in values.items()
             if name.lower().encode() not in present]
    extra += [(name, value) for name, value in _SECURITY_HEADERS if name not in present]
    if b"cache-control" not in present:
        extra.append((b"cache-control", b"no-store"))
    return [*headers, *extra]


def _log_request(scope: Scope, status: int, seconds: float, request_id: str) -> None:
    route = getattr(scope.get("route"), "path_format", None) or "unmatched"  # no converters
    state: dict[str, Any] = scope.get("state", {})
    metrics.observe_request(scope["method"], route, status, seconds)
    services = getattr(scope["app"].state, "services", None) if "app" in scope else None
    if services is not None:
        metrics.POOL_IN_USE.set(services.db.connections_in_use())
    access.info(
        "request",
        extra={
            "method": scope["method"],
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "request_id": request_id,
            "user_id": state.get("user_id"),
        },
    )


class HeadMiddleware:
    """HEAD, wherever GET is served: the GET's status and headers (Content-Length too), no body.

    The request runs as a GET on a copy of the scope; the server keeps its own scope, which
    still says HEAD, so it sends no body either.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        as_get = {**scope, "method": "GET"}

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        try:
            await self.app(as_get, receive, without_body)
        finally:
            if "route" in as_get:  # for the request's log line and metrics
                scope["route"] = as_get["route"]


class BodyLimitMiddleware:
    """Cap request bodies for every door: reading past ``max_bytes`` raises PayloadTooLarge.

    The check happens as the body is read (after authentication), never up front, so a request
    without credentials still gets its 401 first.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if declared is not None and declared > self.max_bytes:
                raise PayloadTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise PayloadTooLarge
            return message

        await self.app(scope, limited_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None
