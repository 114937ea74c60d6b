"""The six operations in surface A's shapes, for every surface that speaks them (A and C).

A surface of this kind is a prefix, an error format and the dependency that finds the caller's
context (from the path for A, from the token alone for C); the route bodies are written once here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from app.json import JSONResponse
from persistence.models import MAX_TITLE_LENGTH, TaskRecord
from resolvers import tasks
from resolvers.context import Context
from resolvers.inputs import CompletionRequest, NewTask, TaskChanges
from rest_compat import schemas
from rest_compat.common import (
    ListParams,
    created_location,
    ensure_utf8_query,
    etag,
    expected_versions,
    list_headers,
    read_body,
    task_json,
)
from rest_compat.openapi import SECURED, error_responses, json_body, success
from rest_compat.routing import DetailFormat, route_class

ContextDependency = Callable[..., Awaitable[Context]]
NEW_TASK_EXAMPLE = {"title": "Buy milk", "description": "Two litres", "priority": "high",
                    "due_date": "2030-01-02T09:00:00Z"}
CHANGES_EXAMPLE = {"title": "Buy oat milk", "status": "in_progress"}


def _task_response(record: TaskRecord, status_code: int = 200, **headers: str) -> Response:
    return JSONResponse(task_json(record), status_code=status_code,
                        headers={"ETag": etag(record), **headers})


def task_router(*, prefix: str, tag: str, errors: DetailFormat, context: ContextDependency,
                id_suffix: str = "", owner_errors: tuple[int, ...] = ()) -> APIRouter:
    """Surface A's operations at ``prefix``; ``owner_errors`` are what ``context`` may answer.

    Operation ids are ``listTasks``, ``createTask``… followed by ``id_suffix``.
    """
    router = APIRouter(prefix=prefix, tags=[tag], route_class=route_class(errors),
                       dependencies=SECURED)
    own = Depends(context)
    invalid = errors.validation_status

    def op(operation: str, *statuses: int, **extra: Any) -> dict[str, Any]:
        """Decorator arguments: operation id, summary, documented responses."""
        responses = error_responses(errors, *owner_errors, *statuses, path=prefix)
        return {"operation_id": f"{operation}{id_suffix}", "response_model": None,
                "responses": {**extra.pop("responses", {}), **responses}, **extra}

    title_rule = partial(
        json_body, description=f"Titles are trimmed, then 1-{MAX_TITLE_LENGTH} characters.")

    @router.get("", **op("listTasks", invalid, summary="List the caller's tasks",
                         responses=success(200, list[schemas.Task], "A page of tasks",
                                           "X-Total-Count", "Link")))
    async def list_tasks(request: Request, params: Annotated[ListParams, Query()],
                         ctx: Context = own) -> Response:
        ensure_utf8_query(request)
        page = await tasks.list_tasks(ctx, params.to_query())
        return JSONResponse([task_json(t) for t in page.tasks],
                            headers=list_headers(request, params, page))

    @router.post("", status_code=201, **op(
        "createTask", invalid, 413, summary="Create a task",
        openapi_extra=title_rule("TaskCreate", NewTask, NEW_TASK_EXAMPLE),
        responses=success(201, schemas.Task, "The new task", "Location", "ETag")))
    async def create_task(request: Request, ctx: Context = own) -> Response:
        record = await tasks.create_task(ctx, await read_body(request))
        return _task_response(record, 201, Location=created_location(request, record))

    @router.get("/{task_id}", **op("getTask", 404, summary="Read one task",
                                   responses=success(200, schemas.Task, "The task", "ETag")))
    async def get_task(task_id: str, ctx: Context = own) -> Response:
        return _task_response(await tasks.get_task(ctx, task_id))

    @router.put("/{task_id}", **op(
        "updateTask", 404, invalid, 412, 413,
        summary="Update a task (fields omitted stay as they are)",
        openapi_extra=title_rule("TaskUpdate", TaskChanges, CHANGES_EXAMPLE),
        responses=success(200, schemas.Task, "The updated task", "ETag")))
    async def update_task(task_id: str, request: Request, ctx: Context = own) -> Response:
        record = await tasks.update_task(ctx, task_id, await read_body(request),
                                         expected_versions=expected_versions(request))
        return _task_response(record)

    @router.delete("/{task_id}", status_code=204, **op(
        "deleteTask", 404, 412, summary="Delete a task",
        responses={204: {"description": "Deleted; no body"}}))
    async def delete_task(task_id: str, request: Request, ctx: Context = own) -> Response:
        await tasks.delete_task(ctx, task_id, expected_versions=expected_versions(request))
        return Response(status_code=204)

    @router.patch("/{task_id}/complete", **op(
        "completeTask", 404, invalid, 412, 413,
        summary="Set completion with {\"completed\": bool}; toggle with no body or {}",
        openapi_extra=json_body("TaskCompletion", CompletionRequest, {"completed": True},
                                required=False),
        responses=success(200, schemas.Task, "The task", "ETag")))
    async def complete_task(task_id: str, request: Request, ctx: Context = own) -> Response:
        record = await tasks.complete_task(ctx, task_id, await read_body(request),
                                           expected_versions=expected_versions(request))
        return _task_response(record)

    return router
