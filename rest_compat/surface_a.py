"""Surface A, the primary REST contract: /api/{user_id}/tasks (contract section 4)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from app.context import request_context
from app.json import JSONResponse
from resolvers import tasks
from resolvers.context import Context
from rest_compat.common import (
    ListParams,
    etag,
    expected_versions,
    list_headers,
    read_body,
    task_json,
)
from rest_compat.routing import DetailFormat, route_class

ERRORS = DetailFormat(validation_status=400)
router = APIRouter(prefix="/api/{user_id}/tasks", tags=["Tasks (surface A)"],
                   route_class=route_class(ERRORS))


async def own_context(
    user_id: Annotated[str, Path(max_length=255, description="The caller's user id")],
    ctx: Annotated[Context, Depends(request_context)],
) -> Context:
    """The caller's context, once the path is known to name the caller (else 403)."""
    tasks.ensure_own_path(ctx, user_id)
    return ctx


OwnContext = Annotated[Context, Depends(own_context)]


def _task_response(record: tasks.TaskRecord, status_code: int = 200, **headers: str) -> Response:
    return JSONResponse(task_json(record), status_code=status_code,
                        headers={"ETag": etag(record), **headers})


@router.get("", operation_id="a_list_tasks", summary="List the caller's tasks")
async def list_tasks(ctx: OwnContext, request: Request,
                     params: Annotated[ListParams, Query()]) -> Response:
    page = await tasks.list_tasks(ctx, params.to_query())
    return JSONResponse([task_json(t) for t in page.tasks],
                        headers=list_headers(request, params, page))


@router.post("", operation_id="a_create_task", summary="Create a task", status_code=201)
async def create_task(ctx: OwnContext, request: Request) -> Response:
    record = await tasks.create_task(ctx, await read_body(request))
    location = f"/api/{ctx.owner}/tasks/{record.id}"
    return _task_response(record, 201, Location=location)


@router.get("/{task_id}", operation_id="a_get_task", summary="Read one task")
async def get_task(ctx: OwnContext, task_id: str) -> Response:
    return _task_response(await tasks.get_task(ctx, task_id))


@router.put("/{task_id}", operation_id="a_update_task", summary="Update a task")
async def update_task(ctx: OwnContext, task_id: str, request: Request) -> Response:
    record = await tasks.update_task(ctx, task_id, await read_body(request),
                                     expected_versions=expected_versions(request))
    return _task_response(record)


@router.delete("/{task_id}", operation_id="a_delete_task", summary="Delete a task",
               status_code=204)
async def delete_task(ctx: OwnContext, task_id: str, request: Request) -> Response:
    await tasks.delete_task(ctx, task_id, expected_versions=expected_versions(request))
    return Response(status_code=204)


@router.patch("/{task_id}/complete", operation_id="a_complete_task",
              summary="Set or toggle completion")
async def complete_task(ctx: OwnContext, task_id: str, request: Request) -> Response:
    record = await tasks.complete_task(ctx, task_id, await read_body(request),
                                       expected_versions=expected_versions(request))
    return _task_response(record)
