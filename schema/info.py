"""The GraphQL context: the very resolver Context the REST routes get, from the same factory."""

from __future__ import annotations

from dataclasses import dataclass

import strawberry
from fastapi import Request
from strawberry.fastapi import BaseContext

from plumbing.dependencies import request_context
from resolvers.context import Context


@dataclass
class GraphQLContext(BaseContext):
    """Strawberry's request/response plus the authenticated resolver Context."""

    ctx: Context

    def __post_init__(self) -> None:
        super().__init__()


Info = strawberry.Info[GraphQLContext, None]


async def graphql_context(request: Request) -> GraphQLContext:
    """Authenticate exactly as REST does (``request_context``); failures become HTTP 401."""
    return GraphQLContext(await request_context(request))
