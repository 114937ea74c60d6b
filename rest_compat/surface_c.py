"""Surface C: surface A without the user in the path, validation answered 422.

"Tasks, user from the token" in /docs.
"""

from __future__ import annotations

from app.context import request_context
from rest_compat.openapi import TASKS_FROM_TOKEN
from rest_compat.routing import DetailFormat
from rest_compat.task_routes import task_router

router = task_router(prefix="/api/tasks", tag=TASKS_FROM_TOKEN, id_suffix="FromToken",
                     errors=DetailFormat(validation_status=422), context=request_context)
