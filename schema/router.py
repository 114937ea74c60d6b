"""The /graphql endpoint: Strawberry's FastAPI router, our context, our error shapes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from cross_web import HTTPException as StrawberryHTTPException
from fastapi import Request, Response
from fastapi.routing import APIWebSocketRoute
from starlette.exceptions import HTTPException
from strawberry import UNSET
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema import BaseSchema
from strawberry.types import ExecutionResult

from plumbing.errors import guarded_route
from plumbing.json import dumps
from schema.errors import GraphQLErrorFormat, with_codes
from schema.info import GraphQLContext, graphql_context

EXAMPLE_QUERY = """\
# Every request needs the header  Authorization: Bearer <token>
# (see Headers below; in development it already holds a token for the demo user).
#
# Run this query with the play button. Then try a mutation, for example:
#   mutation { createTask(input: {title: "Try GraphQL", priority: HIGH}) { id title version } }
#   mutation { toggleTaskCompleted(id: "<id>") { id completed version } }
# and the next page with  tasks(first: 10, after: "<endCursor>").
query {
  me {
    id
    taskCounts { total pending inProgress completed }
  }
  tasks(first: 10, orderBy: {field: CREATED_AT, direction: DESC}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id title status priority dueDate completed version }
  }
}
"""

GraphiQLPage = Callable[[], Response]
"""Renders the GraphiQL page (its assets and security headers are the application's)."""
NOT_AN_OBJECT = 'The request body must be a JSON object such as {"query": "{ me { id } }"}'


class GraphQLEndpoint(GraphQLRouter[GraphQLContext, None]):
    """POST /graphql runs operations for the authenticated caller; GET serves GraphiQL."""

    def __init__(self, schema: BaseSchema, *, graphiql: GraphiQLPage | None,
                 max_query_length: int) -> None:
        self.max_query_length = max_query_length
        super().__init__(
            schema,
            prefix="/graphql",
            graphql_ide="graphiql" if graphiql is not None else None,
            allow_queries_via_get=False,
            context_getter=self.context,
            route_class=guarded_route(GraphQLErrorFormat()),
        )
        self._graphiql = graphiql
        # No subscriptions in the schema, so no WebSocket endpoint either.
        self.routes = [r for r in self.routes if not isinstance(r, APIWebSocketRoute)]

    async def render_graphql_ide(self, request: Request) -> Response:  # type: ignore[override]
        """The GraphiQL page (Strawberry returns it as is, so its headers hold)."""
        assert self._graphiql is not None  # Strawberry asks only when graphql_ide is set
        return self._graphiql()

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """Strawberry's own refusals (bad JSON, GET disabled…) go through our error pipeline."""
        try:
            return await super().run(request, context, root_value)
        except StrawberryHTTPException as error:
            raise HTTPException(error.status_code, error.reason) from None

    def encode_json(self, data: object) -> bytes:
        """The response body, written by orjson as REST's are (Strawberry's default is json)."""
        return dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        """The body as a JSON object; anything else (an array, a string, null…) is a 400."""
        value = orjson.loads(data)  # strict: no NaN, no lone surrogates, bounded nesting
        if not isinstance(value, dict):
            raise StrawberryHTTPException(400, NOT_AN_OBJECT)
        return value

    async def parse_http_body(self, request: Any) -> GraphQLRequestData:
        """The operation sent; a query text longer than the setting allows is a 413."""
        data = await super().parse_http_body(request)
        assert isinstance(data, GraphQLRequestData)  # lists are refused by decode_json
        if data.query is not None and len(data.query) > self.max_query_length:
            raise StrawberryHTTPException(
                413, f"The query is longer than {self.max_query_length} characters")
        return data

    async def process_result(self, request: Any, result: ExecutionResult
                             ) -> GraphQLHTTPResponse:
        """The response body, every error in it with an ``extensions.code``."""
        if result.errors:
            result.errors = with_codes(result.errors)
        return await super().process_result(request, result)

    async def context(self, request: Request) -> GraphQLContext | None:
        """The authenticated context; none for the GraphiQL page, which runs no operation."""
        if self.should_render_graphql_ide(self.request_adapter_class(request)):
            return None
        return await graphql_context(request)
