"""JSON log lines on stdout: one object per line, never a token or secret."""

from __future__ import annotations

import logging
import re
import sys
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

# Set by the request middleware, so that every line logged while serving a request names it.
request_fields: ContextVar[dict[str, str]] = ContextVar("request_fields", default={})  # noqa: B039
# uvicorn adds a coloured copy of its messages (``color_message``) for terminals: never logged
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message", "asctime", "color_message"}
_ANSI_ESCAPE = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": _plain(record.getMessage()),
        }
        line.update(request_fields.get())
        line.update({k: _plain(v) for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info and record.exc_info[1] is not None:
            line |= _exception_fields(record.exc_info[1])
        return orjson.dumps(line, default=str).decode()


def _exception_fields(error: BaseException) -> dict[str, str]:
    """The exception's type and where it was raised, never its message.

    Messages carry data: a driver error quotes the value it could not store, a SQLAlchemy
    error lists the statement's parameters. The frames say where to look without either.
    """
    kind = type(error)
    return {"exception": f"{kind.__module__}.{kind.__qualname__}",
            "traceback": "".join(traceback.format_tb(error.__traceback__))}


def _plain(value: Any) -> Any:
    """``value`` without terminal escape sequences, when it is a string that has any."""
    if isinstance(value, str) and "\x1b" in value:
        return _ANSI_ESCAPE.sub("", value).replace("\x1b", "")
    return value


def configure_logging(level: str = "info") -> None:
    """Send the service's logs (and uvicorn's) to stdout as JSON lines."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    for name in ("todo_api", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    logging.getLogger("uvicorn.access").disabled = True  # replaced by our request line
