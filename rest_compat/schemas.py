"""The shapes the REST families answer with, as published in /openapi.json.

Documentation only: routes write domain tasks as JSON directly and errors through their error
formats, and tests/test_openapi.py checks real responses against these schemas.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.json_schema import SkipJsonSchema

from resolvers import domain

# No nulls: FastAPI drops None values from the whole document, examples included.
TASK_EXAMPLE: dict[str, Any] = {
    "id": "3f2b8c1e-9a4d-4e5f-8b6a-0c1d2e3f4a5b", "user_id": "alice-0001", "title": "Buy milk",
    "description": "Two litres", "completed": True, "completed_at": "2026-01-15T11:30:00Z",
    "status": "completed", "priority": "medium", "due_date": "2030-01-02T09:00:00Z",
    "created_at": "2026-01-15T10:00:00Z", "updated_at": "2026-01-15T11:30:00Z", "version": 2,
}


class _Closed(BaseModel):
    """Every field is documented: an undocumented one in a real response fails the tests."""

    model_config = ConfigDict(extra="forbid")


class _TaskBase(_Closed):
    model_config = ConfigDict(json_schema_extra={"examples": [TASK_EXAMPLE]})


def _task_schema() -> type[BaseModel]:
    """The domain's task, field for field, as a JSON schema named Task."""
    hints = get_type_hints(domain.Task)
    descriptions = domain.field_descriptions()
    fields: dict[str, Any] = {name: (hints[name], Field(description=descriptions[name]))
                              for name in domain.TASK_FIELDS}
    return create_model("Task", __base__=_TaskBase, __doc__="One task.", **fields)


if TYPE_CHECKING:
    TaskSchema = _TaskBase
else:
    TaskSchema = _task_schema()


class FieldProblem(_Closed):
    field: str
    message: str


class ErrorBody(_Closed):
    """Every error of Tasks and of Tasks, user from the token."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"detail": "Task not found", "code": "TASK_NOT_FOUND", "request_id": "5d1c9e0f"},
    ]})

    detail: str
    code: str
    request_id: str
    errors: list[FieldProblem] | SkipJsonSchema[None] = None


class Pagination(_Closed):
    total: int
    limit: int
    offset: int
    has_more: bool


class TaskData(_Closed):
    task: TaskSchema


class TaskListData(_Closed):
    tasks: list[TaskSchema]
    pagination: Pagination


class NoData(_Closed):
    """The empty ``data`` of a delete."""


class TaskEnvelope(_Closed):
    """Tasks v1: one task."""

    success: Literal[True]
    data: TaskData
    message: str


class TaskListEnvelope(_Closed):
    """Tasks v1: a page of tasks."""

    success: Literal[True]
    data: TaskListData
    message: str


class DeletedEnvelope(_Closed):
    """Tasks v1: a deleted task."""

    success: Literal[True]
    data: NoData
    message: str


class ErrorDetails(_Closed):
    timestamp: datetime
    path: str
    method: str
    request_id: str
    errors: list[FieldProblem] | SkipJsonSchema[None] = None


class ErrorEnvelope(_Closed):
    """Tasks v1: every error."""

    success: Literal[False]
    error: str
    code: str
    details: ErrorDetails
