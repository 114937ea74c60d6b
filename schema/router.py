"""The /graphql endpoint: Strawberry's FastAPI router, our context, our error shapes."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from cross_web import HTTPException
from fastapi import Request, Response
from fastapi.routing import APIRoute, APIWebSocketRoute
from strawberry import UNSET
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult

from app.devpages import OfflineGraphQLRouter
from app.json import JSONResponse
from app.settings import Settings
from app.tokens import demo_token
from schema.context import GraphQLContext, graphql_context
from schema.errors import http_error_response, with_codes
from schema.schema import schema_for

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


_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}
NOT_AN_OBJECT = 'The request body must be a JSON object such as {"query": "{ me { id } }"}'


class GraphQLRoute(APIRoute):
    """A route whose failures before execution (401, 429…) answer in the GraphQL error shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as error:  # translated, never leaked
                return http_error_response(error)

        return guarded


class GraphQLRouter(OfflineGraphQLRouter):
    """POST /graphql runs operations for the authenticated caller; GET serves GraphiQL."""

    def __init__(self, settings: Settings) -> None:
        self.max_query_length = settings.graphql_max_query_length
        super().__init__(
            schema_for(settings),
            prefix="/graphql",
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            allow_queries_via_get=False,
            context_getter=self.context,
            route_class=GraphQLRoute,
            example_query=EXAMPLE_QUERY,
            authorization_provider=lambda: demo_token(settings),
        )
        # No subscriptions in the schema, so no WebSocket endpoint either.
        self.routes = [r for r in self.routes if not isinstance(r, APIWebSocketRoute)]

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """Strawberry's own refusals (bad JSON, GET disabled…) in the GraphQL error shape too."""
        try:
            return await super().run(request, context, root_value)
        except HTTPException as error:
            code = _HTTP_CODES.get(error.status_code, "BAD_REQUEST")
            return JSONResponse({"errors": [{"message": error.reason,
                                             "extensions": {"code": code}}]},
                                status_code=error.status_code)

    def decode_json(self, data: str | bytes) -> object:
        """The body as a JSON object; anything else (an array, a string, null…) is a 400."""
        value = orjson.loads(data)  # strict: no NaN, no lone surrogates, bounded nesting
        if not isinstance(value, dict):
            raise HTTPException(400, NOT_AN_OBJECT)
        return value

    async def parse_http_body(self, request: Any) -> GraphQLRequestData:
        """The operation sent; a query text longer than the setting allows is a 413."""
        data = await super().parse_http_body(request)
        assert isinstance(data, GraphQLRequestData)  # lists are refused by decode_json
        if data.query is not None and len(data.query) > self.max_query_length:
            raise HTTPException(413, f"The query is longer than {self.max_query_length} "
                                     "characters")
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
