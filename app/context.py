"""The one dependency that turns a request into a resolver Context (REST and GraphQL alike)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fastapi import Request

from app import metrics
from app.problems import RateLimited
from app.ratelimit import Budget, RateLimiter
from app.settings import Settings
from auth.bearer import bearer_token
from auth.errors import AuthenticationError
from auth.principal import Principal
from auth.verifier import TokenVerifier
from persistence.database import Database
from resolvers.context import Context

audit = logging.getLogger("todo_api.audit")


@dataclass(frozen=True)
class Services:
    """The process-wide objects every request uses."""

    settings: Settings
    db: Database
    verifier: TokenVerifier
    rate_limiter: RateLimiter


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


async def authenticate(request: Request) -> Principal:
    """The caller's principal from the bearer token, within the rate limits.

    Before the token is looked at, the client address must have budget left: requests without
    a usable token spend it, so token guessing is limited too. A verified caller spends their own.
    Every failure is logged with its reason, never with the token.
    """
    limiter = services(request).rate_limiter
    address = request.client.host if request.client else "unknown"
    headers = request.headers.getlist("authorization")
    if headers:
        _admit(request, await limiter.peek_address(address), "address")
    else:
        _admit(request, await limiter.spend_address(address), "address")
    try:
        principal = await services(request).verifier.verify(bearer_token(headers))
    except AuthenticationError as error:
        request.state.auth_failure = error.reason.value
        audit.warning("authentication failed", extra={"reason": error.reason.value,
                                                     "path": request.url.path})
        metrics.AUTH_FAILURES.labels(error.reason.value).inc()
        if headers:
            _admit(request, await limiter.spend_address(address), "address", refuse=False)
        raise
    request.state.user_id = principal.user_id
    _admit(request, await limiter.spend_user(principal.user_id), "user")
    return principal


def _admit(request: Request, budget: Budget | None, scope: str, *, refuse: bool = True) -> None:
    """Remember the budget's headers for the response; RateLimited once it is spent."""
    if budget is None:  # the rate-limit storage is down: fail open
        return
    request.state.rate_limit_headers = budget.headers()
    if refuse and not budget.allowed:
        metrics.RATE_LIMITED.labels(scope).inc()
        raise RateLimited(request.state.rate_limit_headers)


async def request_context(request: Request) -> Context:
    """FastAPI dependency: the authenticated resolver Context of this request."""
    principal = await authenticate(request)
    return Context(principal=principal, db=services(request).db)
