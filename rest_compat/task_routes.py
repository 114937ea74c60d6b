"""The task routes with plain JSON answers, at two places: /api/{user_id}/tasks and /api/tasks.

A family of this kind is a prefix, an error format and the dependency that finds the caller's
context (from the path, or from the token alone); the route bodies are written once here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from plumbing.dependencies import request_context
from plumbing.errors import guarded_route
from plumbing.json import JSONResponse
from resolvers import tasks
from resolvers.context import Context
from resolvers.domain import MAX_TITLE_LENGTH, Task
from resolvers.inputs import CompletionRequest, NewTask, TaskChanges
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
from rest_compat.error_formats import DetailFormat
from rest_compat.idempotency import idempotency_key
from rest_compat.list_query import TaskListQuery, list_headers, read_query
from rest_compat.openapi import (
    IDEMPOTENCY_KEY,
    IF_NONE_MATCH,
    SECURED,
    TASKS,
    TASKS_FROM_TOKEN,
    error_responses,
    json_body,
    not_modified_response,
    openapi_extra,
    query_parameters,
    success,
)
from rest_compat.ownership import USER_PREFIX, own_context

ContextDependency = Callable[..., Awaitable[Context]]
NEW_TASK_EXAMPLE = {"title": "Buy milk", "description": "Two litres", "priority": "high",
                    "due_date": "2030-01-02T09:00:00Z"}
CHANGES_EXAMPLE = {"title": "Buy oat milk", "status": "in_progress"}


def _task_response(task: Task, status_code: int = 200, **headers: str) -> Response:
    return JSONResponse(task, status_code=status_code, headers={"ETag": etag(task), **headers})


def _task_read(request: Request, task: Task) -> Response:
    """The task, or 304 when the client's If-None-Match already names its version."""
    if holds(request, task):
        return not_modified(etag(task))
    return _task_response(task, 200, **REVALIDATE)


def task_router(*, prefix: str, tag: str, errors: DetailFormat, context: ContextDependency,
                id_suffix: str = "", owner_errors: tuple[int, ...] = ()) -> APIRouter:
    """The six task operations at ``prefix``; ``owner_errors`` are what ``context`` may answer.

    Operation ids are ``listTasks``, ``createTask``… followed by ``id_suffix``.
    """
    router = APIRouter(prefix=prefix, tags=[tag], route_class=guarded_route(errors))
    own = Depends(context)
    invalid = errors.validation_status

    def op(operation: str, *statuses: int, documents: tuple[dict[str, Any], ...] = (),
           **extra: Any) -> dict[str, Any]:
        """Decorator arguments: operation id, summary, documented responses and ``documents``
        (parts of ``openapi_extra``: what the route reads itself, besides the bearer token)."""
        responses = error_responses(errors, *owner_errors, *statuses, path=prefix)
        return {"operation_id": f"{operation}{id_suffix}", "response_model": None,
                "responses": {**extra.pop("responses", {}), **responses},
                "openapi_extra": openapi_extra(SECURED, *documents), **extra}

    title_rule = partial(
        json_body, description=f"Titles are trimmed, then 1-{MAX_TITLE_LENGTH} characters.")

    @router.get("", **op("listTasks", invalid, summary="List the caller's tasks",
                         documents=(query_parameters(TaskListQuery), IF_NONE_MATCH),
                         responses={**success(200, list[schemas.TaskSchema], "A page of tasks",
                                              "X-Total-Count", "Link", "ETag"),
                                    **not_modified_response()}))
    async def list_tasks(request: Request, ctx: Context = own) -> Response:
        params = read_query(TaskListQuery, request)
        listing = await tasks.list_tasks_if_changed(
            ctx, params.to_query(), scope=listing_scope(request), known_tags=known_tags(request))
        tag = listing_etag(listing.tag)
        if listing.page is None:
            return not_modified(tag)
        return JSONResponse(listing.page.tasks, headers={
            **list_headers(request, params, listing.page), "ETag": tag, **REVALIDATE})

    @router.post("", status_code=201, **op(
        "createTask", invalid, 409, 413, 422, summary="Create a task",
        documents=(title_rule("TaskCreate", NewTask, NEW_TASK_EXAMPLE), IDEMPOTENCY_KEY),
        responses=success(201, schemas.TaskSchema, "The new task (or, for a retry with the "
                          "same Idempotency-Key, the task the first request created)",
                          "Location", "ETag")))
    async def create_task(request: Request, ctx: Context = own) -> Response:
        task = await tasks.create_task(ctx, await read_body(request),
                                       idempotency_key=idempotency_key(request))
        return _task_response(task, 201, Location=created_location(request, task))

    @router.get("/{task_id}", **op("getTask", 404, summary="Read one task",
                                   documents=(IF_NONE_MATCH,),
                                   responses={**success(200, schemas.TaskSchema, "The task",
                                                        "ETag"),
                                              **not_modified_response()}))
    async def get_task(task_id: str, request: Request, ctx: Context = own) -> Response:
        return _task_read(request, await tasks.get_task(ctx, task_id))

    @router.put("/{task_id}", **op(
        "updateTask", 404, invalid, 412, 413,
        summary="Update a task (fields omitted stay as they are)",
        documents=(title_rule("TaskUpdate", TaskChanges, CHANGES_EXAMPLE),),
        responses=success(200, schemas.TaskSchema, "The updated task", "ETag")))
    async def update_task(task_id: str, request: Request, ctx: Context = own) -> Response:
        task = await tasks.update_task(ctx, task_id, await read_body(request),
                                         expected_versions=expected_versions(request))
        return _task_response(task)

    @router.delete("/{task_id}", status_code=204, **op(
        "deleteTask", 404, 412, summary="Delete a task",
        responses={204: {"description": "Deleted; no body"}}))
    async def delete_task(task_id: str, request: Request, ctx: Context = own) -> Response:
        await tasks.delete_task(ctx, task_id, expected_versions=expected_versions(request))
        return Response(status_code=204)

    @router.patch("/{task_id}/complete", **op(
        "completeTask", 404, invalid, 412, 413,
        summary="Set completion with {\"completed\": bool}; toggle with no body or {}",
        documents=(json_body("TaskCompletion", CompletionRequest, {"completed": True},
                             required=False),),
        responses=success(200, schemas.TaskSchema, "The task", "ETag")))
    async def complete_task(task_id: str, request: Request, ctx: Context = own) -> Response:
        task = await tasks.complete_task(ctx, task_id, await read_body(request),
                                           expected_versions=expected_versions(request))
        return _task_response(task)

    return router


primary_router = task_router(
    prefix=f"{USER_PREFIX}/tasks", tag=TASKS, errors=DetailFormat(validation_status=400),
    context=own_context, owner_errors=(403,))
token_router = task_router(
    prefix="/api/tasks", tag=TASKS_FROM_TOKEN, id_suffix="FromToken",
    errors=DetailFormat(validation_status=422), context=request_context)
