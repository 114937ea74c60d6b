"""The one dependency that turns a request into a resolver Context (REST and GraphQL alike)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fastapi import Request

from auth.bearer import bearer_token
from auth.errors import AuthenticationError
from auth.principal import Principal
from auth.verifier import TokenVerifier
from persistence.database import Database
from plumbing import metrics
from plumbing.inflight import RELEASE_SLOT, InFlight
from plumbing.problems import RateLimited
from plumbing.ratelimit import Budget, RateLimiter
from resolvers.context import Context
from resolvers.domain import MAX_TASKS_PER_USER

audit = logging.getLogger("todo_api.audit")
IN_FLIGHT_RETRY_AFTER = "1"


@dataclass(frozen=True)
class Services:
    """The process-wide objects every request uses."""

    db: Database
    verifier: TokenVerifier
    rate_limiter: RateLimiter
    in_flight: InFlight
    max_tasks_per_user: int = MAX_TASKS_PER_USER


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


async def authenticate(request: Request) -> Principal:
    """The caller's principal from the bearer token, within the rate limits.

    A verified caller spends their own budget and is never refused because of their address,
    and takes one of their slots of requests in flight. Requests without a valid token spend
    their client address's budget; once it is spent they get 429 instead of 401, so token
    guessing is limited too. Every failure is logged with its reason, never with the token.
    """
    limiter = services(request).rate_limiter
    try:
        principal = await services(request).verifier.verify(
            bearer_token(request.headers.getlist("authorization")))
    except AuthenticationError as error:
        audit.warning("authentication failed", extra={"reason": error.reason.value,
                                                     "path": request.url.path})
        metrics.AUTH_FAILURES.labels(error.reason.value).inc()
        address = request.client.host if request.client else "unknown"
        _admit(request, await limiter.spend_address(address), "address")
        raise
    request.state.user_id = principal.user_id
    _admit(request, await limiter.spend_user(principal.user_id), "user")
    _take_slot(request, principal.user_id)
    return principal


def _admit(request: Request, budget: Budget | None, scope: str) -> None:
    """Remember the budget's headers for the response; RateLimited once it is spent."""
    if budget is None:  # the rate-limit storage is down: fail open
        return
    request.state.rate_limit_headers = budget.headers()
    if not budget.allowed:
        metrics.RATE_LIMITED.labels(scope).inc()
        raise RateLimited(request.state.rate_limit_headers)


def _take_slot(request: Request, user_id: str) -> None:
    """One of the user's slots of requests in flight (429 when all are taken).

    The slot is given back when the response has ended, whatever happened (an error, a client
    that went away): RequestMiddleware calls ``release_slot`` in its ``finally``.
    """
    state = request.scope.setdefault("state", {})
    if RELEASE_SLOT in state:  # an earlier dependency of this request took it already
        return
    in_flight = services(request).in_flight
    if not in_flight.enter(user_id):
        metrics.RATE_LIMITED.labels("in_flight").inc()
        headers = getattr(request.state, "rate_limit_headers", {})
        raise RateLimited({**headers, "Retry-After": IN_FLIGHT_RETRY_AFTER})
    state[RELEASE_SLOT] = lambda: in_flight.leave(user_id)


async def request_context(request: Request) -> Context:
    """FastAPI dependency: the authenticated resolver Context of this request."""
    principal = await authenticate(request)
    process = services(request)
    return Context(principal=principal, db=process.db.for_request(),
                   max_tasks=process.max_tasks_per_user)
