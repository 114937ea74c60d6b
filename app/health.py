"""Liveness and readiness, without a token."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.json import JSONResponse
from app.problems import RETRY_AFTER_SECONDS
from persistence.errors import DatabaseUnavailable

router = APIRouter(tags=["Health"])


@router.get("/health", operation_id="getHealth", summary="The process is alive")
async def health() -> Response:
    return JSONResponse({"status": "ok"})


@router.get("/ready", operation_id="getReadiness", summary="The database is reachable")
async def ready(request: Request) -> Response:
    try:
        await request.app.state.services.db.ping()
    except DatabaseUnavailable:
        return JSONResponse({"status": "unavailable", "database": "unreachable"},
                            status_code=503, headers={"Retry-After": RETRY_AFTER_SECONDS})
    return JSONResponse({"status": "ready", "database": "ok"})
