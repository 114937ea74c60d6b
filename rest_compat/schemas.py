"""The shapes the REST surfaces answer with, as published in /openapi.json.

Documentation only: routes build their bodies with ``task_json`` and the error formats, and
tests/test_openapi.py checks real responses against these schemas, so they cannot drift.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import SkipJsonSchema

from persistence.models import TaskPriority, TaskStatus

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


class Task(_Closed):
    """One task, as every REST surface writes it."""

    model_config = ConfigDict(json_schema_extra={"examples": [TASK_EXAMPLE]})

    id: uuid.UUID
    user_id: str
    title: str
    description: str | None
    completed: bool
    completed_at: datetime | None
    status: TaskStatus
    priority: TaskPriority
    due_date: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int


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
    task: Task


class TaskListData(_Closed):
    tasks: list[Task]
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
