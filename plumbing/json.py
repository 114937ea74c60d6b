"""Fast JSON responses (orjson, UTC datetimes with Z)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from fastapi.responses import JSONResponse as _JSONResponse

_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> str:
    """What orjson does not write itself: subclasses of UUID (asyncpg returns its own)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(content: Any) -> bytes:
    """``content`` as JSON: dataclasses, enums, UUIDs, datetimes in UTC with Z."""
    return orjson.dumps(content, default=_default, option=_OPTIONS)


class JSONResponse(_JSONResponse):
    def render(self, content: Any) -> bytes:
        return dumps(content)
