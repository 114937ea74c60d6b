"""Surface C (seed 001): surface A without the user in the path, validation answered 422."""

from __future__ import annotations

from app.context import request_context
from rest_compat.routing import DetailFormat
from rest_compat.task_routes import task_router

router = task_router(name="c", prefix="/api/tasks", tag="Tasks (surface C, user from token)",
                     errors=DetailFormat(validation_status=422), context=request_context)
