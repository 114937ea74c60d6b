"""Every failure, whatever door it came through, as one Problem: status, code, message."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.requests import ClientDisconnect

from app.metrics import AUTH_FAILURES
from auth.errors import AuthenticationError
from persistence.errors import DatabaseUnavailable
from resolvers.errors import FieldError, Forbidden, StaleVersion, TaskNotFound, ValidationFailed

logger = logging.getLogger("todo_api")
audit = logging.getLogger("todo_api.audit")
FORBIDDEN_REASON = "user_mismatch"
RETRY_AFTER_SECONDS = "5"
CLIENT_CLOSED_REQUEST = 499  # nginx's status for the log line of a request nobody waits for


class PayloadTooLarge(Exception):
    """The request body is over the configured limit."""


class RateLimited(Exception):
    """The caller spent its request budget; ``headers`` say when to come back."""

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__("rate limited")
        self.headers = headers


@dataclass(frozen=True)
class Problem:
    status: int
    code: str
    detail: str
    errors: list[FieldError] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def report_problem(error: Exception, *, validation_status: int = 400) -> Problem:
    """The Problem for a request that failed with ``error``, audited and counted once."""
    problem = problem_for(error, validation_status=validation_status)
    if problem.status == 403:
        audit.warning("authorization failed", extra={"reason": FORBIDDEN_REASON})
        AUTH_FAILURES.labels(FORBIDDEN_REASON).inc()
    elif problem.status == 500:
        logger.error("unexpected error", exc_info=error)
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
            return Problem(validation_status, "VALIDATION_ERROR", "The request is invalid",
                           errors=error.errors)
        case RequestValidationError():
            return Problem(validation_status, "VALIDATION_ERROR", "The request is invalid",
                           errors=[_field_error(e) for e in error.errors()])
        case StaleVersion():
            return Problem(412, "PRECONDITION_FAILED",
                           "The task has changed since the version in If-Match")
        case PayloadTooLarge():
            return Problem(413, "PAYLOAD_TOO_LARGE", "The request body is too large")
        case RateLimited():
            return Problem(429, "RATE_LIMITED", "Too many requests", headers=error.headers)
        case ClientDisconnect():  # the client left (or the server cut off its slow body)
            return Problem(CLIENT_CLOSED_REQUEST, "CLIENT_CLOSED_REQUEST",
                           "The client closed the connection before sending the whole request")
        case DatabaseUnavailable():
            return Problem(503, "SERVICE_UNAVAILABLE", "The database is unavailable; retry later",
                           headers={"Retry-After": RETRY_AFTER_SECONDS})
    return Problem(500, "INTERNAL_ERROR", "An unexpected error occurred")


def _field_error(error: dict[str, Any]) -> FieldError:
    location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
    return FieldError(field=".".join(location) or "body", message=str(error.get("msg", "invalid")))
