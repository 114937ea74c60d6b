"""Paths that name a user: they must name the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from plumbing.dependencies import request_context
from resolvers import tasks
from resolvers.context import Context
from resolvers.domain import MAX_USER_ID_LENGTH

UserId = Annotated[str, Path(max_length=MAX_USER_ID_LENGTH, description="The caller's user id")]


async def own_context(
    user_id: UserId,
    ctx: Annotated[Context, Depends(request_context)],
) -> Context:
    """The caller's context, once the path is known to name the caller (else 403)."""
    tasks.ensure_own_path(ctx, user_id)
    return ctx
