"""Pure ASGI middleware: request ids, trailing slashes, security headers, the request log line."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = _with_headers(message.get("headers", []), request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            _log_request(scope, status, time.perf_counter() - started, request_id)


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _REQUEST_ID.match(text) else None
    return None


def _with_headers(headers: list[tuple[bytes, bytes]], request_id: str) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    extra = [(b"x-request-id", request_id.encode())]
    extra += [(name, value) for name, value in _SECURITY_HEADERS if name not in present]
    if b"cache-control" not in present:
        extra.append((b"cache-control", b"no-store"))
    return [*headers, *extra]


def _log_request(scope: Scope, status: int, seconds: float, request_id: str) -> None:
    route = scope.get("route")
    state: dict[str, Any] = scope.get("state", {})
    access.info(
        "request",
        extra={
            "method": scope["method"],
            "route": getattr(route, "path", None) or "unmatched",
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "request_id": request_id,
            "user_id": state.get("user_id"),
        },
    )
