"""Surface A, the primary REST contract: /api/{user_id}/tasks (contract section 4)."""

from __future__ import annotations

from rest_compat.common import own_context
from rest_compat.routing import DetailFormat
from rest_compat.task_routes import task_router

ERRORS = DetailFormat(validation_status=400)
router = task_router(name="a", prefix="/api/{user_id}/tasks", tag="Tasks (surface A)",
                     errors=ERRORS, context=own_context,
                     owner_errors=(403, ERRORS.validation_status))
