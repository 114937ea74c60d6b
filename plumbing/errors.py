"""From a failure to a response: each door's error format, and the route class every door uses."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel

from plumbing.json import JSONResponse
from plumbing.problems import Problem, report_problem


class ErrorFormat(Protocol):
    """How one door writes a Problem."""

    @property
    def validation_status(self) -> int:
        """The status of a validation error at this door (400 or 422)."""

    @property
    def model(self) -> type[BaseModel] | None:
        """The schema of ``body`` published in the OpenAPI document (None: not published)."""

    def body(self, problem: Problem, request: Request) -> Any: ...


def request_id(request: Request) -> str:
    """The id the request middleware gave this request."""
    return str(request.scope.get("state", {}).get("request_id", ""))


def render_problem(problem: Problem, request: Request, error_format: ErrorFormat) -> Response:
    """The response ``error_format`` writes for ``problem``."""
    return JSONResponse(error_format.body(problem, request), status_code=problem.status,
                        headers=problem.headers)


def format_of(request: Request, default: ErrorFormat) -> ErrorFormat:
    """The format of the door whose route matched the path (a 405 there), else ``default``."""
    return getattr(request.scope.get("route"), "error_format", default)


def guarded_route(error_format: ErrorFormat) -> type[APIRoute]:
    """An APIRoute whose every failure, from dependencies too, is written in ``error_format``."""

    class GuardedRoute(APIRoute):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.error_format = error_format  # also read for 405s on this route's path

        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()
            invalid = error_format.validation_status

            async def guarded(request: Request) -> Response:
                try:
                    return await handler(request)
                except Exception as error:  # translated, never leaked
                    return render_problem(report_problem(error, validation_status=invalid),
                                          request, error_format)

            return guarded

    return GuardedRoute
