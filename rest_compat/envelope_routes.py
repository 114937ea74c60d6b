"""The task routes under /api/v1/{user_id}/tasks: every answer in a success/data/message envelope.

Validation errors (a malformed task id included) are 422, titles are 1-200 characters, the list
pages with limit (1-100, default 20) and offset, and PATCH .../complete always toggles.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from plumbing.errors import guarded_route
from plumbing.json import JSONResponse
from resolvers import tasks
from resolvers.context import Context
from resolvers.domain import SortField, Task, TaskFilter, TaskOrdering, TaskStatus
from resolvers.inputs import NewTask, TaskChanges
from resolvers.tasks import TaskQuery
from rest_compat import schemas
from rest_compat.bodies import created_location, read_body
from rest_compat.conditional import (
    REVALIDATE,
    etag,
    expected_versions,
    holds,
    known_tags,
    listing_etag,
    listing_scope,
    not_modified,
)
from rest_compat.error_formats import EnvelopeFormat
from rest_compat.idempotency import idempotency_key
from rest_compat.list_query import MAX_OFFSET, read_query
from rest_compat.openapi import (
    IDEMPOTENCY_KEY,
    IF_NONE_MATCH,
    SECURED,
    TASKS_V1,
    error_responses,
    json_body,
    not_modified_response,
    openapi_extra,
    query_parameters,
    success,
)
from rest_compat.ownership import own_context

PREFIX = "/api/v1/{user_id}/tasks"
TITLE_MAX = 200
ERRORS = EnvelopeFormat(validation_status=422)
router = APIRouter(prefix=PREFIX, tags=[TASKS_V1], route_class=guarded_route(ERRORS))

OwnContext = Annotated[Context, Depends(own_context)]
# A malformed id is a validation error here (v1 clients expect 422), where the other task
# routes answer 404.
TaskId = Annotated[uuid.UUID, Path(description="The task's id (a UUID)")]
_TITLE = f"Titles are trimmed, then 1-{TITLE_MAX} characters."


class EnvelopeListQuery(BaseModel):
    """The list query parameters of this family (unknown ones are ignored)."""

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


def _task(task: Task, message: str, status_code: int = 200, **headers: str) -> Response:
    return _envelope({"task": task}, message, status_code, {"ETag": etag(task), **headers})


def _op(operation: str, summary: str, *statuses: int,
        documents: tuple[dict[str, Any], ...] = (), **extra: Any) -> dict[str, Any]:
    """Decorator arguments: operation id, summary, documented responses (403 always: the path)
    and ``documents`` (parts of ``openapi_extra``: what the route reads itself)."""
    responses = error_responses(ERRORS, 403, 422, *statuses, path=PREFIX)
    return {"operation_id": f"{operation}V1", "summary": summary, "response_model": None,
            "responses": {**extra.pop("responses", {}), **responses},
            "openapi_extra": openapi_extra(SECURED, *documents), **extra}


@router.get("", **_op("listTasks", "List the caller's tasks",
                      documents=(query_parameters(EnvelopeListQuery), IF_NONE_MATCH),
                      responses={**success(200, schemas.TaskListEnvelope,
                                           "A page of tasks with its pagination", "ETag"),
                                 **not_modified_response()}))
async def list_tasks(ctx: OwnContext, request: Request) -> Response:
    params = read_query(EnvelopeListQuery, request)
    listing = await tasks.list_tasks_if_changed(
        ctx, params.to_query(), scope=listing_scope(request), known_tags=known_tags(request))
    tag = listing_etag(listing.tag)
    if (page := listing.page) is None:
        return not_modified(tag)
    pagination = {"total": page.total, "limit": params.limit, "offset": params.offset,
                  "has_more": page.has_more}
    return _envelope({"tasks": page.tasks, "pagination": pagination},
                     "Tasks retrieved successfully", headers={"ETag": tag, **REVALIDATE})


@router.post("", status_code=201, **_op(
    "createTask", "Create a task", 409, 413,
    documents=(json_body("TaskCreateV1", NewTask, {"title": "Buy milk", "priority": "high"},
                         description=_TITLE, title_max=TITLE_MAX), IDEMPOTENCY_KEY),
    responses=success(201, schemas.TaskEnvelope, "The new task (or, for a retry with the same "
                      "Idempotency-Key, the task the first request created)",
                      "Location", "ETag")))
async def create_task(ctx: OwnContext, request: Request) -> Response:
    task = await tasks.create_task(ctx, await read_body(request), title_max=TITLE_MAX,
                                   idempotency_key=idempotency_key(request))
    return _task(task, "Task created successfully", 201,
                 Location=created_location(request, task))


@router.get("/{task_id}", **_op("getTask", "Read one task", 404, documents=(IF_NONE_MATCH,),
                                responses={**success(200, schemas.TaskEnvelope, "The task",
                                                     "ETag"),
                                           **not_modified_response()}))
async def get_task(ctx: OwnContext, task_id: TaskId, request: Request) -> Response:
    task = await tasks.get_task(ctx, task_id)
    if holds(request, task):
        return not_modified(etag(task))
    return _task(task, "Task retrieved successfully", 200, **REVALIDATE)


@router.put("/{task_id}", **_op(
    "updateTask", "Update a task (fields omitted stay as they are)", 404, 412, 413,
    documents=(json_body("TaskUpdateV1", TaskChanges,
                         {"title": "Buy oat milk", "status": "in_progress"},
                         description=_TITLE, title_max=TITLE_MAX),),
    responses=success(200, schemas.TaskEnvelope, "The updated task", "ETag")))
async def update_task(ctx: OwnContext, task_id: TaskId, request: Request) -> Response:
    task = await tasks.update_task(ctx, task_id, await read_body(request),
                                     expected_versions=expected_versions(request),
                                     title_max=TITLE_MAX)
    return _task(task, "Task updated successfully")


@router.delete("/{task_id}", **_op("deleteTask", "Delete a task", 404, 412, responses=success(
    200, schemas.DeletedEnvelope, "Deleted; data is {}")))
async def delete_task(ctx: OwnContext, task_id: TaskId, request: Request) -> Response:
    await tasks.delete_task(ctx, task_id, expected_versions=expected_versions(request))
    return _envelope({}, "Task deleted successfully")


@router.patch("/{task_id}/complete", **_op(
    "toggleTask", "Toggle completion (any body is ignored)", 404, 412, responses=success(
        200, schemas.TaskEnvelope, "The task, completion flipped", "ETag")))
async def toggle_task(ctx: OwnContext, task_id: TaskId, request: Request) -> Response:
    task = await tasks.toggle_completed(ctx, task_id,
                                          expected_versions=expected_versions(request))
    return _task(task, "Task completion toggled successfully")
