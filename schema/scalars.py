"""The DateTime scalar: ISO 8601, written in UTC with ``Z`` exactly as REST writes it."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from strawberry.types.scalar import ScalarDefinition


def serialize_datetime(value: datetime) -> str:
    """``value`` in UTC, ISO 8601, ``Z`` for the zero offset (naive values are taken as UTC)."""
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return utc.isoformat().replace("+00:00", "Z")


def parse_datetime(value: object) -> datetime:
    """An ISO 8601 date-time string (``Z`` or an offset; without one it is taken as UTC)."""
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("not an ISO 8601 date-time such as 2030-01-31T17:00:00Z") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # year 1 with a positive offset, year 9999 with a negative one
        raise ValueError("outside the years 1 to 9999 once converted to UTC") from None


DateTime = strawberry.scalar(
    name="DateTime",
    description="An ISO 8601 date-time, answered in UTC with a Z suffix",
    specified_by_url="https://datatracker.ietf.org/doc/html/rfc3339",
    serialize=serialize_datetime,
    parse_value=parse_datetime,
)
SCALARS: dict[object, ScalarDefinition] = {datetime: DateTime}
