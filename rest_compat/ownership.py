"""Paths that name a user: they must name the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request
from starlette.convertors import Convertor, register_url_convertor

from plumbing.dependencies import request_context
from resolvers import tasks
from resolvers.context import Context
from resolvers.domain import MAX_USER_ID_LENGTH

# The length is published, not checked: a longer id is not the caller's, so it is a 403 like any
# other user's id, never a 400 that a path naming someone else would not get.
UserId = Annotated[str, Path(description="The caller's user id",
                             json_schema_extra={"maxLength": MAX_USER_ID_LENGTH})]


class _UserSegment(Convertor[str]):
    """A user id in a path, but never the first segment of another family (``/api/tasks``,
    ``/api/v1``): those paths stay theirs whatever order the routes are tried in."""

    regex = r"(?!(?:tasks|v1)(?:/|$))[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("user", _UserSegment())
USER_PREFIX = "/api/{user_id:user}"
"""Paths under it name a user (OpenAPI shows ``/api/{user_id}``)."""


async def own_context(request: Request, user_id: UserId) -> Context:
    """The caller's context, once the path is known to name the caller (else 403)."""
    ctx = await request_context(request)  # called, not injected: one dependency per request
    tasks.ensure_own_path(ctx, user_id)
    return ctx
