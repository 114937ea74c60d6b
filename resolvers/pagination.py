"""Opaque keyset cursors: where a task stands in one ordering."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Any

import orjson

from resolvers.domain import SortField, SortKey, Task, TaskOrdering, sort_value
from resolvers.errors import ValidationFailed


def encode_cursor(task: Task, ordering: TaskOrdering) -> str:
    value = sort_value(task, ordering.field)
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = orjson.dumps([ordering.field.value, value, str(task.id)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, ordering: TaskOrdering) -> SortKey:
    """The position ``cursor`` names; ValidationFailed unless it is ours for ``ordering``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        field, value, task_id = orjson.loads(raw)
        if field != ordering.field.value:
            raise ValueError("cursor from another ordering")
        return SortKey(value=_sort_value(SortField(field), value), id=uuid.UUID(task_id))
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise ValidationFailed.single("after", "is not a valid cursor for this ordering") from None


def _sort_value(field: SortField, value: Any) -> Any:
    if value is None:
        if field is not SortField.DUE_DATE:
            raise ValueError("missing sort value")
        return None
    if field in (SortField.CREATED_AT, SortField.UPDATED_AT, SortField.DUE_DATE):
        return datetime.fromisoformat(value)
    expected = str if field is SortField.TITLE else int
    if not isinstance(value, expected) or isinstance(value, bool):
        raise ValueError("sort value of the wrong type")
    return value
