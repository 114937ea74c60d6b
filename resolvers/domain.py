"""The words of the domain: what a task is, and how a user's tasks are chosen and ordered.

Every other layer speaks these words: persistence stores them, the doors translate them.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

MAX_USER_ID_LENGTH = 255
MAX_TITLE_LENGTH = 255
MAX_DESCRIPTION_LENGTH = 10_000
MAX_SEARCH_LENGTH = 255
MAX_IDEMPOTENCY_KEY_LENGTH = 255
MAX_TASKS_PER_USER = 10_000
"""How many tasks one user may hold unless configured otherwise (MAX_TASKS_PER_USER)."""


class TaskStatus(enum.StrEnum):
    """Where a task stands, in workflow order."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class TaskPriority(enum.StrEnum):
    """How important a task is, least important first."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class SortField(enum.StrEnum):
    """What a listing of tasks can be ordered by."""

    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    TITLE = "title"
    DUE_DATE = "due_date"
    PRIORITY = "priority"
    STATUS = "status"


def _doc(text: str) -> dict[str, str]:
    """Field metadata: the description every door that shows the field publishes."""
    return {"description": text}


@dataclass(slots=True)  # not frozen: a frozen dataclass takes 10x as long to build (1.7 us),
class Task:             # and a page reads up to 1,000 of them; a Task is never changed in place
    """One task, as stored and as every door shows it: the one declaration of its fields.

    Persistence selects exactly these columns in this order; REST writes these fields; GraphQL's
    ``Task`` type is derived from them (``user_id`` excepted). Changing a task makes a new one.
    """

    id: uuid.UUID = field(metadata=_doc("Server-assigned, random"))
    user_id: str = field(metadata=_doc("The owner: always the caller"))
    title: str = field(metadata=_doc(f"1-{MAX_TITLE_LENGTH} characters, trimmed"))
    description: str | None = field(
        metadata=_doc(f"At most {MAX_DESCRIPTION_LENGTH:,} characters"))
    completed: bool = field(metadata=_doc("Always equal to status == completed"))
    completed_at: datetime | None = field(metadata=_doc("When it was completed; null while not"))
    status: TaskStatus = field(metadata=_doc("Moves with completed"))
    priority: TaskPriority = field(metadata=_doc("Defaults to medium"))
    due_date: datetime | None = field(metadata=_doc("Optional deadline"))
    created_at: datetime = field(metadata=_doc("Set by the server"))
    updated_at: datetime = field(metadata=_doc("Set by the server on every change"))
    version: int = field(metadata=_doc("Starts at 1, +1 on every change"))


TASK_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Task))
"""Every field of a task, in declaration order."""
UPDATABLE_FIELDS = ("title", "description", "status", "priority", "due_date", "completed")
"""The fields a client may change; the others are set by the server."""


def field_descriptions() -> dict[str, str]:
    """Each task field's description, by name."""
    return {f.name: f.metadata["description"] for f in fields(Task)}


@dataclass(frozen=True, slots=True)
class StatusCounts:
    """A user's tasks counted per status."""

    pending: int = 0
    in_progress: int = 0
    completed: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.in_progress + self.completed


@dataclass(frozen=True, slots=True)
class TaskFilter:
    """Which of a user's tasks a listing returns; None leaves a criterion out."""

    status: TaskStatus | None = None
    completed: bool | None = None
    priority: TaskPriority | None = None
    search: str | None = None
    due_after: datetime | None = None
    due_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class TaskOrdering:
    """The order of a listing; ties are always broken by id in the same direction."""

    field: SortField = SortField.CREATED_AT
    descending: bool = True


@dataclass(frozen=True, slots=True)
class SortKey:
    """Where one task stands in an ordering: its sort value (a rank for enums) and its id."""

    value: Any
    id: uuid.UUID


RANKED_FIELDS: dict[SortField, type[TaskStatus] | type[TaskPriority]] = {
    SortField.PRIORITY: TaskPriority,
    SortField.STATUS: TaskStatus,
}
"""Fields ordered by their place in the enum (importance, workflow), not alphabetically."""


def sort_value(task: Task, by: SortField) -> Any:
    """The value ``by`` orders ``task`` by: the field itself, or the rank of its enum member."""
    value = getattr(task, by.value)
    ranked = RANKED_FIELDS.get(by)
    return list(ranked).index(value) if ranked is not None else value
