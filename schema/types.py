"""GraphQL object types, enums and inputs: translations of the domain's words, no rules."""

from __future__ import annotations

import enum
from dataclasses import fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias, get_type_hints

import strawberry
from strawberry import UNSET

from resolvers import domain
from resolvers.domain import SortField, StatusCounts, TaskPriority, TaskStatus
from resolvers.tasks import TaskPage

# The domain's enums are the GraphQL enums: member names are the GraphQL values.
strawberry.enum(TaskStatus)
strawberry.enum(TaskPriority)
strawberry.enum(SortField, name="TaskOrderField")

_NOT_PUBLISHED = {"user_id"}  # always the caller: nothing a client needs to be told


def _task_type() -> type:
    """GraphQL's ``Task``: the domain task's fields (camelCase), described as the domain does."""
    hints = get_type_hints(domain.Task)
    descriptions = domain.field_descriptions()
    namespace: dict[str, Any] = {"__doc__": "One of the caller's tasks.", "__annotations__": {}}
    for name in domain.TASK_FIELDS:
        if name not in _NOT_PUBLISHED:
            namespace["__annotations__"][name] = strawberry.ID if name == "id" else hints[name]
            namespace[name] = strawberry.field(description=descriptions[name])
    return strawberry.type(type("Task", (), namespace))


if TYPE_CHECKING:
    TaskType = domain.Task  # fields resolve to the domain task's attributes
else:
    TaskType = _task_type()


@strawberry.enum
class OrderDirection(enum.Enum):
    ASC = "asc"
    DESC = "desc"


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
    node: TaskType


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


def _edges(root: TaskConnection) -> list[TaskEdge]:
    """Built only when asked for: a cursor per task is work most clients skip."""
    return [TaskEdge(cursor=root.page.cursor(task), node=task) for task in root.nodes]


@strawberry.type
class TaskConnection:
    """One page of tasks, with opaque cursors to continue after any of them."""

    edges: list[TaskEdge] = strawberry.field(resolver=_edges)
    nodes: list[TaskType]
    page_info: PageInfo
    total_count: int = strawberry.field(description="How many tasks match the filter")
    page: strawberry.Private[TaskPage]

    @classmethod
    def from_page(cls, page: TaskPage, *, after: str | None) -> TaskConnection:
        found = page.tasks
        page_info = PageInfo(
            has_next_page=page.has_more, has_previous_page=after is not None,
            start_cursor=page.cursor(found[0]) if found else None,
            end_cursor=page.cursor(found[-1]) if found else None,
        )
        return cls(nodes=found, page_info=page_info, total_count=page.total, page=page)


def sent_fields(data: object) -> dict[str, Any]:
    """The input's fields the client actually sent (explicit nulls included), snake_case."""
    return {f.name: value for f in fields(data)  # type: ignore[arg-type]
            if (value := getattr(data, f.name)) is not UNSET}


@strawberry.input(name="TaskOrder")
class TaskOrderInput:
    field: SortField = SortField.CREATED_AT
    direction: OrderDirection = OrderDirection.DESC

    def to_ordering(self) -> domain.TaskOrdering:
        return domain.TaskOrdering(self.field, descending=self.direction is OrderDirection.DESC)


@strawberry.input(name="TaskFilter")
class TaskFilterInput:
    status: TaskStatus | None = UNSET
    priority: TaskPriority | None = UNSET
    search: str | None = strawberry.field(
        default=UNSET, description="Case-insensitive substring of title or description"
    )
    due_before: datetime | None = strawberry.field(
        default=UNSET, description="Tasks due at or before this instant"
    )
    due_after: datetime | None = strawberry.field(
        default=UNSET, description="Tasks due at or after this instant"
    )
    completed: bool | None = UNSET

    def to_filter(self) -> domain.TaskFilter:
        return domain.TaskFilter(**sent_fields(self))


def _task_input(name: str, doc: str, *, required: frozenset[str] = frozenset()) -> type:
    """An input of the fields a client may set; those not ``required`` may be left out."""
    hints = get_type_hints(domain.Task)
    namespace: dict[str, Any] = {"__doc__": doc, "__annotations__": {}}
    for field in domain.UPDATABLE_FIELDS:
        namespace["__annotations__"][field] = hints[field] if field in required else (
            hints[field] | None)
        if field not in required:
            namespace[field] = UNSET
    return strawberry.input(type(name, (), namespace))


if TYPE_CHECKING:
    CreateTaskInput: TypeAlias = object  # read only through sent_fields
    UpdateTaskInput: TypeAlias = object
else:
    CreateTaskInput = _task_input("CreateTaskInput", "A new task; only the title is required.",
                                  required=frozenset({"title"}))
    UpdateTaskInput = _task_input("UpdateTaskInput",
                                  "Only the fields sent change; the others stay as they are.")
