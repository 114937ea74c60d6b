"""What the REST families publish about themselves: security, bodies, headers, error responses."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
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
from resolvers.tasks import MAX_PAGE_SIZE
from rest_compat.idempotency import PARAMETER as IDEMPOTENCY_KEY_PARAMETER

SECURITY_SCHEMES = {"bearerAuth": {
    "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
    "description": "A JWT from Better Auth (or signed with BETTER_AUTH_SECRET); the user is `sub`.",
}}
SECURED: dict[str, Any] = {"security": [{"bearerAuth": []}]}
"""``openapi_extra`` of an operation that needs a bearer token (checked by request_context)."""

TASKS = "Tasks"
TASKS_FROM_TOKEN = "Tasks, user from the token"  # noqa: S105 (a tag, not a secret)
TASKS_V1 = "Tasks v1 (envelope)"
HEALTH = "Health"
TAGS: list[dict[str, Any]] = [
    {"name": TASKS, "description": (
        "**Start here.** The signed-in user's tasks at `/api/{user_id}/tasks`, where `user_id` "
        "is the user's Better Auth id (`session.user.id`) and must be the token's user (any "
        "other id is 403). Tasks are plain JSON objects. Every answer with one task carries an "
        "`ETag`; send it back as `If-Match` to change or delete the task only if nobody else "
        "changed it in between (412 otherwise). The list filters and sorts, and returns up to "
        f"{MAX_PAGE_SIZE:,} tasks at once (`limit`, by default {MAX_PAGE_SIZE:,}, with `offset` "
        "or `page` for the rest); it says how many tasks match in `X-Total-Count` and where the "
        "other pages are in `Link`. Validation errors are 400.")},
    {"name": TASKS_FROM_TOKEN, "description": (
        "The same operations, parameters and task objects as **Tasks**, at `/api/tasks`: for "
        "clients that would rather not put the user's id in the URL. The user is always the one "
        "the token names. Validation errors are 422.")},
    {"name": TASKS_V1, "description": (
        "For clients written against the `/api/v1` API: every success is wrapped as "
        "`{success: true, data, message}` and every error as `{success: false, error, code, "
        "details}`. The list is paged (`limit` 1-100, default 20) and reports `data.pagination`; "
        "titles are at most 200 characters; a task id that is not a UUID is 422; completing "
        "always toggles; deleting answers 200. New clients should use **Tasks**.")},
    {"name": HEALTH, "description": (
        "Liveness (`/health`) and readiness (`/ready`: the database answers) for load balancers "
        "and orchestrators. No token needed.")},
]
"""The tag of each REST family, in the order /docs shows them, with who should use it."""

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
    403: Forbidden(),
    404: TaskNotFound(),
    409: TaskLimitReached(10_000),
    412: StaleVersion(),
    413: PayloadTooLarge(),
    429: RateLimited({"Retry-After": "30"}),
    500: INTERNAL_ERROR,
    503: SERVICE_UNAVAILABLE,
}
_EXAMPLE_INVALID = ValidationFailed.single("title", "must not be empty")
_KEY_REUSED = IdempotencyKeyReused()
_KEY_REUSED_ONLY = "IDEMPOTENCY_KEY_REUSED: the Idempotency-Key was first sent with another body"

COMPONENT_REF = "#/components/schemas/{model}"
_SCHEMAS = "x-schemas"
"""Where an operation leaves the component schemas it refers to, for ``install_openapi``."""

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
    "Link": {"description": 'The first, previous, next and last pages where they exist, as '
                            '`<url>; rel="next", <url>; rel="last"`',
             "required": False, "schema": {"type": "string"}},
}


IF_NONE_MATCH: dict[str, Any] = {"parameters": [{
    "name": "If-None-Match", "in": "header", "required": False,
    "description": "The ETag of the copy the client holds: 304, without a body, while it is "
                   "still current",
    "schema": {"type": "string"}, "example": '"1"',
}]}
"""``openapi_extra`` of a read that answers 304 to a current If-None-Match."""


IDEMPOTENCY_KEY: dict[str, Any] = {"parameters": [IDEMPOTENCY_KEY_PARAMETER]}
"""``openapi_extra`` of a create that honours Idempotency-Key."""


def openapi_extra(*parts: dict[str, Any]) -> dict[str, Any]:
    """One operation's ``openapi_extra`` from parts: their parameters and schemas added up."""
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key == "parameters":
                merged[key] = [*merged.get(key, []), *value]
            elif key == _SCHEMAS:
                merged[key] = {**merged.get(key, {}), **value}
            else:
                merged[key] = value
    return merged


def query_parameters(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting the query parameters a route reads with ``model``."""
    schema = model.model_json_schema(ref_template=COMPONENT_REF)
    required = set(schema.get("required", ()))
    parameters = []
    for name, field_schema in schema["properties"].items():
        parameter = {"name": name, "in": "query", "required": name in required,
                     "schema": field_schema}
        if "description" in field_schema:
            parameter["description"] = field_schema["description"]
        parameters.append(parameter)
    return {"parameters": parameters, _SCHEMAS: schema.get("$defs", {})}


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


def json_body(name: str, model: type[BaseModel], example: dict[str, Any], *,
              required: bool = True, description: str | None = None,
              title_max: int | None = None) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads its JSON body itself (validated by ``model``).

    The body is published as the component schema ``name`` (generated clients name their type
    after it); ``install_openapi`` moves the definition into ``components/schemas``.
    """
    body: dict[str, Any] = {"required": required, "content": {"application/json": {
        "schema": {"$ref": COMPONENT_REF.format(model=name)}, "example": example}}}
    if description:
        body["description"] = description
    return {"requestBody": body, _SCHEMAS: body_schemas(name, model, title_max)}


def body_schemas(name: str, model: type[BaseModel], title_max: int | None = None
                 ) -> dict[str, dict[str, Any]]:
    """``model``'s JSON schema named ``name``, with the schemas it refers to, as components."""
    schema = model.model_json_schema(ref_template=COMPONENT_REF)
    definitions: dict[str, dict[str, Any]] = schema.pop("$defs", {})
    if title_max is not None:
        publish_title_rule(schema, title_max)
    return {**definitions, name: {**schema, "title": name}}


def install_openapi(app: FastAPI) -> None:
    """Publish the schemas operations refer to and the bearer scheme as components; drop
    FastAPI's default 422 (no family sends it)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            _publish_schemas(document)
            document["components"]["securitySchemes"] = SECURITY_SCHEMES
            _drop_default_validation(document)
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _publish_schemas(document: dict[str, Any]) -> None:
    """Move the schemas operations refer to (bodies, parameters) into the components."""
    components = document.setdefault("components", {}).setdefault("schemas", {})
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for name, schema in operation.pop(_SCHEMAS, {}).items():
                if components.setdefault(name, schema) != schema:
                    raise ValueError(f"two different schemas are published as {name!r}")


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
