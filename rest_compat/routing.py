"""Per-surface error rendering, chosen once per router through its route class."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any, Protocol

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel

from app.json import JSONResponse
from app.problems import Problem, report_problem
from rest_compat.schemas import ErrorBody, ErrorEnvelope


class ErrorFormat(Protocol):
    """How one surface writes a Problem."""

    validation_status: int
    model: type[BaseModel]
    """The schema of ``body`` published in the OpenAPI document."""

    def body(self, problem: Problem, request: Request) -> dict[str, Any]: ...


def request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", ""))


def render_problem(problem: Problem, request: Request, error_format: ErrorFormat) -> Response:
    return JSONResponse(error_format.body(problem, request), status_code=problem.status,
                        headers=problem.headers)


def surface_errors(request: Request, default: ErrorFormat) -> ErrorFormat:
    """The format of the surface whose path was matched (a 405 there), else ``default``."""
    return getattr(request.scope.get("route"), "surface_errors", default)


def route_class(error_format: ErrorFormat) -> type[APIRoute]:
    """An APIRoute whose every failure, from dependencies too, is written in ``error_format``."""

    class SurfaceRoute(APIRoute):
        surface_errors = error_format  # also read for 405s on this route's path

        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def guarded(request: Request) -> Response:
                try:
                    return await handler(request)
                except Exception as error:  # translated, never leaked
                    status = error_format.validation_status
                    problem = report_problem(error, validation_status=status)
                    request.state.problem = problem
                    return render_problem(problem, request, error_format)

            return guarded

    return SurfaceRoute


def _field_errors(problem: Problem) -> list[dict[str, str]]:
    return [{"field": e.field, "message": e.message} for e in problem.errors or ()]


class DetailFormat:
    """Surfaces A and C: ``{"detail", "code", "request_id"[, "errors"]}``."""

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
    """Surface B (seed 004): ``{"success": false, "error", "code", "details"}``."""

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
