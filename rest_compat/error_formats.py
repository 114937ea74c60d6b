"""How the REST families write a Problem: a detail body, or an envelope."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from pydantic import BaseModel

from plumbing.errors import request_id
from plumbing.problems import Problem
from rest_compat.schemas import ErrorBody, ErrorEnvelope


def _field_errors(problem: Problem) -> list[dict[str, str]]:
    return [{"field": e.field, "message": e.message} for e in problem.errors or ()]


class DetailFormat:
    """``{"detail", "code", "request_id"[, "errors"]}``."""

    model: type[BaseModel] = ErrorBody

    def __init__(self, validation_status: int) -> None:
        self.validation_status = validation_status

    def body(self, problem: Problem, request: Request) -> dict[str, Any]:
        body: dict[str, Any] = {"detail": problem.detail, "code": problem.code,
                                "request_id": request_id(request)}
        if problem.errors is not None:
            body["errors"] = _field_errors(problem)
        return body


class EnvelopeFormat:
    """``{"success": false, "error", "code", "details": {timestamp, path, method, request_id}}``."""

    model: type[BaseModel] = ErrorEnvelope

    def __init__(self, validation_status: int) -> None:
        self.validation_status = validation_status

    def body(self, problem: Problem, request: Request) -> dict[str, Any]:
        details: dict[str, Any] = {
            # the path as received: request.url re-parses it, and urllib drops tabs and newlines
            "timestamp": datetime.now(UTC), "path": request.scope["path"],
            "method": request.method, "request_id": request_id(request),
        }
        if problem.errors is not None:
            details["errors"] = _field_errors(problem)
        return {"success": False, "error": problem.detail, "code": problem.code,
                "details": details}
