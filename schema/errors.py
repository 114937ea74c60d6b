"""Every GraphQL failure with an ``extensions.code``; unexpected ones masked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import Request
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from plumbing.problems import Problem, report_problem
from resolvers.errors import FieldError

# REST codes whose GraphQL spelling differs; the others are shared as they are.
_CODES = {"TASK_NOT_FOUND": "NOT_FOUND", "PRECONDITION_FAILED": "CONFLICT",
          "TOKEN_EXPIRED": "UNAUTHENTICATED"}  # GraphQL clients know one code for every 401
_MESSAGES = {
    "CONFLICT": "The task has changed since expectedVersion",
    "IDEMPOTENCY_KEY_REUSED": "This idempotencyKey was already used with a different input",
    "IDEMPOTENCY_KEY_IN_USE": "A call with this idempotencyKey is still being processed; "
                              "retry shortly",
}
# Resolver field names whose GraphQL argument has another name.
_FIELDS = {"body": "input", "limit": "first"}


def graphql_field(name: str) -> str:
    """A resolver field path (snake_case) as the client spelled it (camelCase)."""
    if name in _FIELDS:
        return _FIELDS[name]
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def error_body(problem: Problem) -> dict[str, Any]:
    """The ``{message, extensions}`` of one GraphQL error for ``problem``."""
    code = _CODES.get(problem.code, problem.code)
    extensions: dict[str, Any] = {"code": code}
    if problem.code == "TOKEN_EXPIRED":
        extensions["reason"] = problem.code  # so a client knows to refresh its token
    message = _MESSAGES.get(code, problem.detail)
    if problem.errors:
        field_errors = [_field_error(e) for e in problem.errors]
        extensions["errors"] = field_errors
        message = f"{field_errors[0]['field']}: {field_errors[0]['message']}"
    return {"message": message, "extensions": extensions}


def _field_error(error: FieldError) -> dict[str, str]:
    return {"field": ".".join(graphql_field(p) for p in error.field.split(".")),
            "message": error.message}


class GraphQLErrorFormat:
    """A failure before execution (authentication, rate limit, a bad request) as ``{errors}``."""

    validation_status = 400
    model = None

    def body(self, problem: Problem, request: Request) -> dict[str, Any]:
        return {"errors": [error_body(problem)]}


class ErrorCodes(SchemaExtension):
    """Give each error its code; mask anything that is not a domain or request error."""

    def __init__(self, *, hide_suggestions: bool = False) -> None:
        self.hide_suggestions = hide_suggestions

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            parsed = self.execution_context.graphql_document is not None
            result.errors = [_coded(e, parsed=parsed, hide_suggestions=self.hide_suggestions)
                             for e in result.errors]


def with_codes(errors: list[GraphQLError]) -> list[GraphQLError]:
    """``errors``, each with a code: one that has none failed unexpectedly, and is masked.

    Errors reach a response without passing through ErrorCodes when an exception escapes
    the operation (Strawberry then answers it as an error of its own).
    """
    return [e if (e.extensions or {}).get("code") else _unexpected(e) for e in errors]


def _unexpected(error: GraphQLError) -> GraphQLError:
    body = error_body(report_problem(error.original_error or error))
    return _with(error, body["message"], body["extensions"])


def _coded(error: GraphQLError, *, parsed: bool, hide_suggestions: bool) -> GraphQLError:
    if error.path is None:  # the document or its variables; graphql-core wrote the message
        code = "GRAPHQL_VALIDATION_FAILED" if parsed else "GRAPHQL_PARSE_FAILED"
        message = error.message
        if hide_suggestions:  # they would reveal the schema's names
            message = message.split(" Did you mean ", 1)[0]
        return _with(error, message, {"code": code})
    body = error_body(report_problem(error.original_error or error))
    return _with(error, body["message"], body["extensions"])


def _with(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(message, nodes=error.nodes, source=error.source,
                        positions=error.positions, path=error.path, extensions=extensions)
