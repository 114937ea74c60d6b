"""Opaque keyset cursors: where a task stands in one ordering."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

import orjson

from resolvers.domain import RANKED_FIELDS, SortField, SortKey, Task, TaskOrdering, sort_value
from resolvers.errors import ValidationFailed
from resolvers.inputs import as_utc


def encode_cursor(task: Task, ordering: TaskOrdering) -> str:
    value = sort_value(task, ordering.field)
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = orjson.dumps([ordering.field.value, value, str(task.id)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, ordering: TaskOrdering) -> SortKey:
    """The position ``cursor`` names; ValidationFailed unless it is ours for ``ordering``."""
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        match orjson.loads(raw):
            case [str(field), value, str(task_id)] if field == ordering.field.value:
                return SortKey(value=_sort_value(ordering.field, value), id=uuid.UUID(task_id))
    except (ValueError, OverflowError):  # also binascii.Error and orjson.JSONDecodeError
        pass
    raise ValidationFailed.single("after", "is not a valid cursor for this ordering")


def _sort_value(field: SortField, value: Any) -> Any:
    """The sort value a cursor holds, as the statement binds it; ValueError if it cannot be."""
    if field in (SortField.CREATED_AT, SortField.UPDATED_AT, SortField.DUE_DATE):
        if value is None and field is SortField.DUE_DATE:
            return None
        if not isinstance(value, str):
            raise ValueError("not a date-time")
        return as_utc(datetime.fromisoformat(value))  # OverflowError at the calendar's ends
    if field is SortField.TITLE:
        if not isinstance(value, str) or "\x00" in value:
            raise ValueError("not a title")
        return value
    ranks = len(RANKED_FIELDS[field])
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < ranks:
        raise ValueError("not a rank")
    return value
