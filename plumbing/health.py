"""Liveness and readiness, without a token."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from persistence.database import Database
from persistence.errors import (
    CERTIFICATE_HOST_MISMATCH,
    CERTIFICATE_UNTRUSTED,
    UNREACHABLE,
    DatabaseUnavailable,
    unavailable_reason,
)
from persistence.migrate import schema_lag
from plumbing.json import JSONResponse
from plumbing.problems import RETRY_AFTER_SECONDS

router = APIRouter(tags=["Health"])
_UNREACHABLE_REASONS = {
    UNREACHABLE: "the database cannot be reached",
    CERTIFICATE_UNTRUSTED: "the database's certificate is not signed by a trusted CA: check "
                           "sslrootcert in DATABASE_URL",
    CERTIFICATE_HOST_MISMATCH: "the database's certificate names another host: check the host "
                               "in DATABASE_URL (sslmode=verify-full checks it)",
}


@router.get("/health", operation_id="getHealth", summary="The process is alive")
async def health() -> Response:
    return JSONResponse({"status": "ok"})


@router.get("/ready", operation_id="getReadiness",
            summary="The database is reachable and its schema is at the code's migration")
async def ready(request: Request) -> Response:
    database: Database = request.app.state.services.db
    # A schema once at head stays there while this process runs: checked until then only.
    at_head = getattr(request.app.state, "schema_at_head", False)
    try:
        await database.ping()
        lag = None if at_head else await _schema_lag(database)
    except DatabaseUnavailable as error:
        state = unavailable_reason(error)
        return _unavailable(state, _UNREACHABLE_REASONS[state])
    if lag is not None:
        return _unavailable("not_migrated", lag)
    request.app.state.schema_at_head = True
    return JSONResponse({"status": "ready", "database": "ok"})


async def _schema_lag(database: Database) -> str | None:
    async with database.read() as connection:
        return await schema_lag(connection)


def _unavailable(state: str, reason: str) -> Response:
    return JSONResponse({"status": "unavailable", "database": state, "reason": reason},
                        status_code=503, headers={"Retry-After": RETRY_AFTER_SECONDS})
