"""Surface A, the primary REST API: /api/{user_id}/tasks ("Tasks" in /docs)."""

from __future__ import annotations

from rest_compat.common import own_context
from rest_compat.openapi import TASKS
from rest_compat.routing import DetailFormat
from rest_compat.task_routes import task_router

ERRORS = DetailFormat(validation_status=400)
router = task_router(prefix="/api/{user_id}/tasks", tag=TASKS, errors=ERRORS, context=own_context,
                     owner_errors=(403, ERRORS.validation_status))
