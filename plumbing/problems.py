"""Every failure, whatever door it came through, as one Problem: status, code, message."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from auth.errors import AuthenticationError
from persistence.errors import DatabaseUnavailable
from plumbing.metrics import AUTH_FAILURES
from resolvers.errors import (
    FieldError,
    Forbidden,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    StaleVersion,
    TaskLimitReached,
    TaskNotFound,
    ValidationFailed,
)

logger = logging.getLogger("todo_api")
audit = logging.getLogger("todo_api.audit")
FORBIDDEN_REASON = "user_mismatch"
RETRY_AFTER_SECONDS = "5"
RETRY_IN_PROGRESS_SECONDS = "1"
_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}


class PayloadTooLarge(Exception):
    """The request body is over the configured limit."""


class RateLimited(Exception):
    """The caller spent its request budget; ``headers`` say when to come back."""

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__("rate limited")
        self.headers = headers


@dataclass(frozen=True)
class Problem:
    """What a client is told about a failure; each door writes it in its own format."""

    status: int
    code: str
    detail: str
    errors: list[FieldError] | None = None
    headers: dict[str, str] = field(default_factory=dict)


SERVICE_UNAVAILABLE = Problem(503, "SERVICE_UNAVAILABLE",
                              "The database is unavailable; retry later",
                              headers={"Retry-After": RETRY_AFTER_SECONDS})
INTERNAL_ERROR = Problem(500, "INTERNAL_ERROR", "An unexpected error occurred")
CLIENT_CLOSED_REQUEST = Problem(499, "CLIENT_CLOSED_REQUEST",
                                "The client went away before sending its whole request")
"""Nobody reads it; 499 is the status logs and proxies use for a client that hung up."""


def report_problem(error: Exception, *, validation_status: int = 400) -> Problem:
    """The Problem for a request that failed with ``error``, audited and logged once."""
    problem = problem_for(error, validation_status=validation_status)
    if problem.status == 403:
        audit.warning("authorization failed", extra={"reason": FORBIDDEN_REASON})
        AUTH_FAILURES.labels(FORBIDDEN_REASON).inc()
    elif problem.status == 500:
        logger.error("unexpected error", exc_info=error)  # one line: type and frames, no message
    return problem


def problem_for(error: Exception, *, validation_status: int = 400) -> Problem:
    """The Problem a client sees for ``error``; anything unexpected is masked as a 500."""
    match error:
        case AuthenticationError():
            return Problem(401, error.code, error.message,
                           headers={"WWW-Authenticate": error.www_authenticate})
        case Forbidden():
            return Problem(403, "FORBIDDEN", "You may only access your own tasks")
        case TaskNotFound():
            return Problem(404, "TASK_NOT_FOUND", "Task not found")
        case ValidationFailed():
            return Problem(validation_status, "VALIDATION_ERROR", error.detail,
                           errors=error.errors)
        case RequestValidationError():
            return problem_for(ValidationFailed.from_pydantic(error.errors()),
                               validation_status=validation_status)
        case StaleVersion():
            return Problem(412, "PRECONDITION_FAILED",
                           "The task has changed since the version in If-Match")
        case TaskLimitReached():
            return Problem(409, "TASK_LIMIT_REACHED",
                           f"You already have the maximum of {error.limit} tasks; "
                           "delete some to make room")
        case IdempotencyKeyInUse():
            return Problem(409, "IDEMPOTENCY_KEY_IN_USE",
                           "A request with this Idempotency-Key is still being processed; "
                           "retry shortly", headers={"Retry-After": RETRY_IN_PROGRESS_SECONDS})
        case IdempotencyKeyReused():
            return Problem(422, "IDEMPOTENCY_KEY_REUSED",
                           "This Idempotency-Key was already used with a different request")
        case PayloadTooLarge():
            return Problem(413, "PAYLOAD_TOO_LARGE", "The request body is too large")
        case RateLimited():
            return Problem(429, "RATE_LIMITED", "Too many requests", headers=error.headers)
        case ClientDisconnect():  # the client left (or the server cut off its slow body)
            return CLIENT_CLOSED_REQUEST
        case DatabaseUnavailable():
            return SERVICE_UNAVAILABLE
        case HTTPException():
            return Problem(error.status_code, _HTTP_CODES.get(error.status_code, "BAD_REQUEST"),
                           str(error.detail), headers=dict(error.headers or {}))
    return INTERNAL_ERROR
