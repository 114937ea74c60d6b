"""Prometheus metrics: requests, latency, database pool, rate limiting, authentication failures."""

from __future__ import annotations

import os

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

# prometheus_client reads PROMETHEUS_MULTIPROC_DIR at import: with several workers every
# process writes its samples there and a scrape of any worker adds them up.
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

REQUESTS = Counter("todo_api_http_requests_total", "HTTP requests answered",
                   ["method", "route", "status"])
LATENCY = Histogram("todo_api_http_request_duration_seconds", "Time to answer an HTTP request",
                    ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
POOL_IN_USE = Gauge("todo_api_db_pool_connections_in_use",
                    "Database connections checked out of this process's pool",
                    multiprocess_mode="livesum")
RATE_LIMITED = Counter("todo_api_rate_limit_rejections_total",
                       "Requests refused with 429, by budget", ["scope"])
AUTH_FAILURES = Counter("todo_api_auth_failures_total",
                        "Authentication (401) and authorization (403) failures, by reason",
                        ["reason"])
HTTP_REFUSALS = Counter("todo_api_http_refusals_total",
                        "Requests and connections the server refused before the application "
                        "(oversized or slow heads and bodies, the connection cap), by reason",
                        ["reason"])

router = APIRouter(tags=["Operations"])


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


@router.get("/metrics", operation_id="metrics", summary="Prometheus metrics",
            include_in_schema=False)
async def metrics(request: Request) -> Response:
    POOL_IN_USE.set(request.app.state.services.db.connections_in_use())
    registry = REGISTRY
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
