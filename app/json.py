"""Fast JSON responses (orjson, UTC datetimes with Z)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse as _JSONResponse

_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


class JSONResponse(_JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=_OPTIONS)
