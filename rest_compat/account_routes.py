"""DELETE /api/{user_id}: the caller erases everything held about them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from plumbing.errors import guarded_route
from resolvers import account
from resolvers.context import Context
from rest_compat.error_formats import DetailFormat
from rest_compat.openapi import SECURED, error_responses
from rest_compat.ownership import USER_PREFIX, own_context
from rest_compat.task_routes import primary_router

PREFIX = "/api/{user_id}"
ERRORS = DetailFormat(validation_status=400)
router = APIRouter(prefix=USER_PREFIX, tags=primary_router.tags, route_class=guarded_route(ERRORS))


@router.delete(
    "", status_code=204, operation_id="eraseMyData", response_model=None,
    summary="Erase everything held about the caller",
    description="Removes the caller's user record, every task and every stored Idempotency-Key "
                "in one transaction. Answers 204 also when there was nothing to remove, so it "
                "is safe to retry. Another user's id is 403.",
    responses={204: {"description": "Erased (or there was nothing to erase); no body"},
               **error_responses(ERRORS, 403, path=PREFIX)},
    openapi_extra=SECURED)
async def erase_my_data(ctx: Annotated[Context, Depends(own_context)]) -> Response:
    await account.erase_my_data(ctx)
    return Response(status_code=204)
