"""GraphQL object types, enums and inputs (contract section 8): translations, no rules."""

from __future__ import annotations

import enum
from dataclasses import fields
from datetime import datetime
from typing import Any

import strawberry
from strawberry import UNSET

from persistence import tasks as persistence_tasks
from persistence.models import StatusCounts, TaskPriority, TaskRecord, TaskStatus
from persistence.tasks import SortField as TaskOrderField
from resolvers.tasks import TaskPage

# The domain enums serve as GraphQL enums: member names are the GraphQL values.
strawberry.enum(TaskStatus)
strawberry.enum(TaskPriority)
strawberry.enum(TaskOrderField, name="TaskOrderField")


@strawberry.enum
class OrderDirection(enum.Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.type
class Task:
    """One of the caller's tasks."""

    id: strawberry.ID
    title: str
    description: str | None
    completed: bool
    completed_at: datetime | None
    status: TaskStatus
    priority: TaskPriority
    due_date: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int = strawberry.field(description="Starts at 1, +1 on every change")

    @classmethod
    def from_record(cls, record: TaskRecord) -> Task:
        return cls(
            id=strawberry.ID(str(record.id)), title=record.title,
            description=record.description, completed=record.completed,
            completed_at=record.completed_at, status=record.status, priority=record.priority,
            due_date=record.due_date, created_at=record.created_at,
            updated_at=record.updated_at, version=record.version,
        )


@strawberry.type
class TaskCounts:
    total: int
    pending: int
    in_progress: int
    completed: int

    @classmethod
    def from_counts(cls, counts: StatusCounts) -> TaskCounts:
        return cls(total=counts.total, pending=counts.pending,
                   in_progress=counts.in_progress, completed=counts.completed)


@strawberry.type
class TaskEdge:
    cursor: str
    node: Task


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


def _edges(root: TaskConnection) -> list[TaskEdge]:
    """Built only when asked for: a cursor per task is work most clients skip."""
    return [TaskEdge(cursor=root.page.cursor(record), node=node)
            for record, node in zip(root.page.tasks, root.nodes, strict=True)]


@strawberry.type
class TaskConnection:
    """One page of tasks, with opaque cursors to continue after any of them."""

    edges: list[TaskEdge] = strawberry.field(resolver=_edges)
    nodes: list[Task]
    page_info: PageInfo
    total_count: int = strawberry.field(description="How many tasks match the filter")
    page: strawberry.Private[TaskPage]

    @classmethod
    def from_page(cls, page: TaskPage, *, after: str | None) -> TaskConnection:
        records = page.tasks
        page_info = PageInfo(
            has_next_page=page.has_more, has_previous_page=after is not None,
            start_cursor=page.cursor(records[0]) if records else None,
            end_cursor=page.cursor(records[-1]) if records else None,
        )
        return cls(nodes=[Task.from_record(r) for r in records], page_info=page_info,
                   total_count=page.total, page=page)


def sent_fields(data: object) -> dict[str, Any]:
    """The input's fields the client actually sent (explicit nulls included), snake_case."""
    return {f.name: value for f in fields(data)  # type: ignore[arg-type]
            if (value := getattr(data, f.name)) is not UNSET}


@strawberry.input
class TaskOrder:
    field: TaskOrderField = TaskOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.DESC

    def to_ordering(self) -> persistence_tasks.TaskOrdering:
        return persistence_tasks.TaskOrdering(
            self.field, descending=self.direction is OrderDirection.DESC
        )


@strawberry.input
class TaskFilter:
    status: TaskStatus | None = UNSET
    priority: TaskPriority | None = UNSET
    search: str | None = strawberry.field(
        default=UNSET, description="Case-insensitive substring of title or description"
    )
    due_before: datetime | None = UNSET
    due_after: datetime | None = UNSET
    completed: bool | None = UNSET

    def to_filter(self) -> persistence_tasks.TaskFilter:
        return persistence_tasks.TaskFilter(**sent_fields(self))


@strawberry.input
class CreateTaskInput:
    title: str
    description: str | None = UNSET
    status: TaskStatus | None = UNSET
    priority: TaskPriority | None = UNSET
    due_date: datetime | None = UNSET
    completed: bool | None = UNSET


@strawberry.input
class UpdateTaskInput:
    """Only the fields sent change; the others stay as they are."""

    title: str | None = UNSET
    description: str | None = UNSET
    status: TaskStatus | None = UNSET
    priority: TaskPriority | None = UNSET
    due_date: datetime | None = UNSET
    completed: bool | None = UNSET
