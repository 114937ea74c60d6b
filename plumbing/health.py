"""Liveness and readiness, without a token."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from persistence.errors import DatabaseUnavailable, unavailable_reason
from plumbing.json import JSONResponse
from plumbing.problems import RETRY_AFTER_SECONDS

router = APIRouter(tags=["Health"])


@router.get("/health", operation_id="getHealth", summary="The process is alive")
async def health() -> Response:
    return JSONResponse({"status": "ok"})


@router.get("/ready", operation_id="getReadiness", summary="The database is reachable")
async def ready(request: Request) -> Response:
    try:
        await request.app.state.services.db.ping()
    except DatabaseUnavailable as error:
        return JSONResponse({"status": "unavailable", "database": unavailable_reason(error)},
                            status_code=503, headers={"Retry-After": RETRY_AFTER_SECONDS})
    return JSONResponse({"status": "ready", "database": "ok"})
