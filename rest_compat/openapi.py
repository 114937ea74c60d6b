"""What the REST families publish about themselves: security, bodies, headers, error responses."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request, Security
from fastapi.security import HTTPBearer
from pydantic import BaseModel

from auth.errors import AuthenticationError, AuthFailure
from plumbing.errors import ErrorFormat, render_problem
from plumbing.problems import (
    INTERNAL_ERROR,
    SERVICE_UNAVAILABLE,
    PayloadTooLarge,
    Problem,
    RateLimited,
    problem_for,
)
from resolvers.errors import (
    Forbidden,
    IdempotencyKeyReused,
    StaleVersion,
    TaskLimitReached,
    TaskNotFound,
    ValidationFailed,
)
from resolvers.inputs import publish_title_rule
from rest_compat.idempotency import PARAMETER as IDEMPOTENCY_KEY_PARAMETER

BEARER = HTTPBearer(
    scheme_name="bearerAuth", bearerFormat="JWT", auto_error=False,
    description="A JWT from Better Auth (or signed with BETTER_AUTH_SECRET); the user is `sub`.",
)
SECURED = [Security(BEARER)]
"""Router dependencies that declare the bearer scheme; authentication itself is request_context."""

ALWAYS = (401, 429, 500, 503)
_DESCRIPTIONS = {
    400: "Validation error: malformed JSON, wrong types, broken rules or bad query parameters",
    401: "Missing, malformed, badly signed or expired token",
    403: "The path names another user",
    404: "No such task for this user",
    409: "TASK_LIMIT_REACHED: the caller already holds the maximum number of tasks; or "
         "IDEMPOTENCY_KEY_IN_USE: a request with this Idempotency-Key is still running "
         "(see Retry-After)",
    412: "If-Match does not match the task's current version",
    413: "The request body is over the size limit",
    422: "Validation error: malformed JSON, wrong types, broken rules or bad parameters; or "
         "IDEMPOTENCY_KEY_REUSED: the Idempotency-Key was first sent with another body",
    429: "Rate limit exceeded; see Retry-After",
    500: "Unexpected error (details are logged, never returned)",
    503: "The database is unavailable; see Retry-After",
}
_EXAMPLE_ERRORS: dict[int, Exception | Problem] = {
    401: AuthenticationError(AuthFailure.BAD_SIGNATURE),
    403: Forbidden("bob-0002"),
    404: TaskNotFound("3f2b8c1e-9a4d-4e5f-8b6a-0c1d2e3f4a5b"),
    409: TaskLimitReached(10_000),
    412: StaleVersion(2),
    413: PayloadTooLarge(),
    429: RateLimited({"Retry-After": "30"}),
    500: INTERNAL_ERROR,
    503: SERVICE_UNAVAILABLE,
}
_EXAMPLE_INVALID = ValidationFailed.single("title", "must not be empty")
_KEY_REUSED = IdempotencyKeyReused("8e03978e-40d5-43e8-bc93-6894a57f9324")
_KEY_REUSED_ONLY = "IDEMPOTENCY_KEY_REUSED: the Idempotency-Key was first sent with another body"

HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {"description": "The entity tag: a task's is its version (for If-Match and "
                            "If-None-Match), a list's changes whenever any of the caller's "
                            "tasks changes (for If-None-Match). Compressed answers add the "
                            'coding ("3-gzip"), which both headers accept as well',
             "required": True, "schema": {"type": "string"}, "example": '"1"'},
    "Location": {"description": "The new task's URL", "required": True,
                 "schema": {"type": "string"}},
    "X-Total-Count": {"description": "How many tasks match, over all pages", "required": True,
                      "schema": {"type": "integer"}},
    "Link": {"description": 'The next page, as `<url>; rel="next"`, when there is one',
             "required": False, "schema": {"type": "string"}},
}


IF_NONE_MATCH: dict[str, Any] = {"parameters": [{
    "name": "If-None-Match", "in": "header", "required": False,
    "description": "The ETag of the copy the client holds: 304, without a body, while it is "
                   "still current",
    "schema": {"type": "string"}, "example": '"1"',
}]}
"""``openapi_extra`` of a read that answers 304 to a current If-None-Match."""


def with_idempotency_key(extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` (``openapi_extra`` of a create) with the Idempotency-Key header documented."""
    return {**extra, "parameters": [IDEMPOTENCY_KEY_PARAMETER]}


def not_modified_response() -> dict[int | str, Any]:
    """The OpenAPI response of a read whose If-None-Match names the current tag."""
    return {304: {"description": "Not modified: the copy the client holds is current",
                  "headers": {"ETag": HEADERS["ETag"]}}}


def error_responses(errors: ErrorFormat, *statuses: int, path: str) -> dict[int | str, Any]:
    """OpenAPI responses for ``statuses`` (and those every operation can return), with examples."""
    return {status: {"model": errors.model, "description": _description(errors, status),
                     "content": {"application/json": {"example": _example(errors, status, path)}}}
            for status in sorted({*statuses, *ALWAYS})}


def _description(errors: ErrorFormat, status: int) -> str:
    if status == 422 and errors.validation_status != 422:
        return _KEY_REUSED_ONLY  # validation errors are 400 there
    return _DESCRIPTIONS[status]


def success(status: int, model: Any, description: str, *headers: str
            ) -> dict[int | str, Any]:
    """The OpenAPI response of a success, with the headers it carries."""
    return {status: {"model": model, "description": description,
                     "headers": {name: HEADERS[name] for name in headers}}}


def json_body(model: type[BaseModel], example: dict[str, Any], *, required: bool = True,
              description: str | None = None, title_max: int | None = None) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads its JSON body itself (validated by ``model``)."""
    schema = inline_schema(model)
    if title_max is not None:
        publish_title_rule(schema, title_max)
    body: dict[str, Any] = {"required": required, "content": {"application/json": {
        "schema": schema, "example": example}}}
    if description:
        body["description"] = description
    return {"requestBody": body}


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema with its local ``$defs`` inlined (it sits inside an operation)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(defs[node["$ref"].rsplit("/", 1)[1]])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    return resolve(schema)  # type: ignore[no-any-return]


def install_openapi(app: FastAPI) -> None:
    """Drop FastAPI's default 422 response: no family sends that body (each has its own)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _drop_default_validation(generate())
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _drop_default_validation(schema: dict[str, Any]) -> None:
    default = {"$ref": "#/components/schemas/HTTPValidationError"}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            if responses.get("422", {}).get("content", {}).get(
                    "application/json", {}).get("schema") == default:
                del responses["422"]
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)


def _example(errors: ErrorFormat, status: int, path: str) -> Any:
    """A real error body for ``status``, rendered by the family's own format."""
    if status == errors.validation_status:
        problem = problem_for(_EXAMPLE_INVALID, validation_status=status)
    elif status == 422:
        problem = problem_for(_KEY_REUSED)
    else:
        example = _EXAMPLE_ERRORS[status]
        problem = example if isinstance(example, Problem) else problem_for(example)
    request = Request({"type": "http", "method": "GET", "path": path, "query_string": b"",
                       "headers": [], "state": {"request_id": "5d1c9e0f2a7b4c3d"}})
    return json.loads(bytes(render_problem(problem, request, errors).body))
