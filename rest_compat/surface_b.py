"""Surface B: /api/v1/{user_id}/tasks, every answer in an envelope ("Tasks v1" in /docs)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from app.json import JSONResponse
from persistence.models import TaskRecord, TaskStatus
from persistence.tasks import SortField, TaskFilter, TaskOrdering
from resolvers import tasks
from resolvers.context import Context
from resolvers.inputs import NewTask, TaskChanges
from resolvers.tasks import TaskQuery
from rest_compat import schemas
from rest_compat.common import (
    MAX_OFFSET,
    created_location,
    ensure_utf8_query,
    etag,
    expected_versions,
    own_context,
    read_body,
    task_json,
)
from rest_compat.openapi import SECURED, TASKS_V1, error_responses, json_body, success
from rest_compat.routing import EnvelopeFormat, route_class

PREFIX = "/api/v1/{user_id}/tasks"
TITLE_MAX = 200
ERRORS = EnvelopeFormat(validation_status=422)
router = APIRouter(prefix=PREFIX, tags=[TASKS_V1],
                   route_class=route_class(ERRORS), dependencies=SECURED)

OwnContext = Annotated[Context, Depends(own_context)]
# A malformed id is a validation error here (v1 clients expect 422), where A and C answer 404.
TaskId = Annotated[uuid.UUID, Path(description="The task's id (a UUID)")]
_TITLE = f"Titles are trimmed, then 1-{TITLE_MAX} characters."


class ListParams(BaseModel):
    """The v1 list parameters (unknown ones are ignored)."""

    model_config = ConfigDict(extra="ignore")

    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
    status: TaskStatus | None = None
    sort: Literal["created_at", "updated_at", "priority"] = "created_at"
    order: Literal["asc", "desc"] = "desc"

    def to_query(self) -> TaskQuery:
        ordering = TaskOrdering(SortField(self.sort), descending=self.order == "desc")
        return TaskQuery(filter=TaskFilter(status=self.status), ordering=ordering,
                         limit=self.limit, offset=self.offset)


def _envelope(data: dict[str, Any], message: str, status_code: int = 200,
              headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"success": True, "data": data, "message": message},
                        status_code=status_code, headers=headers)


def _task(record: TaskRecord, message: str, status_code: int = 200, **headers: str
          ) -> Response:
    return _envelope({"task": task_json(record)}, message, status_code,
                     {"ETag": etag(record), **headers})


def _op(operation: str, summary: str, *statuses: int, **extra: Any) -> dict[str, Any]:
    """Decorator arguments: operation id, summary, documented responses (403 always: the path)."""
    responses = error_responses(ERRORS, 403, 422, *statuses, path=PREFIX)
    return {"operation_id": f"{operation}V1", "summary": summary, "response_model": None,
            "responses": {**extra.pop("responses", {}), **responses}, **extra}


@router.get("", **_op("listTasks", "List the caller's tasks", responses=success(
    200, schemas.TaskListEnvelope, "A page of tasks with its pagination")))
async def list_tasks(ctx: OwnContext, params: Annotated[ListParams, Query()],
                     request: Request) -> Response:
    ensure_utf8_query(request)
    page = await tasks.list_tasks(ctx, params.to_query())
    pagination = {"total": page.total, "limit": params.limit, "offset": params.offset,
                  "has_more": page.has_more}
    return _envelope({"tasks": [task_json(t) for t in page.tasks], "pagination": pagination},
                     "Tasks retrieved successfully")


@router.post("", status_code=201, **_op(
    "createTask", "Create a task", 413,
    openapi_extra=json_body("TaskCreateV1", NewTask, {"title": "Buy milk", "priority": "high"},
                            description=_TITLE, title_max=TITLE_MAX),
    responses=success(201, schemas.TaskEnvelope, "The new task", "Location", "ETag")))
async def create_task(ctx: OwnContext, request: Request) -> Response:
    record = await tasks.create_task(ctx, await read_body(request), title_max=TITLE_MAX)
    return _task(record, "Task created successfully", 201,
                 Location=created_location(request, record))


@router.get("/{task_id}", **_op("getTask", "Read one task", 404, responses=success(
    200, schemas.TaskEnvelope, "The task", "ETag")))
async def get_task(ctx: OwnContext, task_id: TaskId) -> Response:
    return _task(await tasks.get_task(ctx, task_id), "Task retrieved successfully")


@router.put("/{task_id}", **_op(
    "updateTask", "Update a task (fields omitted stay as they are)", 404, 412, 413,
    openapi_extra=json_body("TaskUpdateV1", TaskChanges,
                            {"title": "Buy oat milk", "status": "in_progress"},
                            description=_TITLE, title_max=TITLE_MAX),
    responses=success(200, schemas.TaskEnvelope, "The updated task", "ETag")))
async def update_task(ctx: OwnContext, task_id: TaskId, request: Request) -> Response:
    record = await tasks.update_task(ctx, task_id, await read_body(request),
                                     expected_versions=expected_versions(request),
                                     title_max=TITLE_MAX)
    return _task(record, "Task updated successfully")


@router.delete("/{task_id}", **_op("deleteTask", "Delete a task", 404, 412, responses=success(
    200, schemas.DeletedEnvelope, "Deleted; data is {}")))
async def delete_task(ctx: OwnContext, task_id: TaskId, request: Request) -> Response:
    await tasks.delete_task(ctx, task_id, expected_versions=expected_versions(request))
    return _envelope({}, "Task deleted successfully")


@router.patch("/{task_id}/complete", **_op(
    "toggleTask", "Toggle completion (any body is ignored)", 404, 412, responses=success(
        200, schemas.TaskEnvelope, "The task, completion flipped", "ETag")))
async def toggle_task(ctx: OwnContext, task_id: TaskId, request: Request) -> Response:
    record = await tasks.toggle_completed(ctx, task_id,
                                          expected_versions=expected_versions(request))
    return _task(record, "Task completion toggled successfully")
