"""The one dependency that turns a request into a resolver Context (REST and GraphQL alike)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fastapi import Request

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


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


async def authenticate(request: Request) -> Principal:
    """The caller's principal from the bearer token; every failure is logged with its reason."""
    try:
        token = bearer_token(request.headers.getlist("authorization"))
        principal = await services(request).verifier.verify(token)
    except AuthenticationError as error:
        request.state.auth_failure = error.reason.value
        audit.warning("authentication failed", extra={"reason": error.reason.value,
                                                     "path": request.url.path})
        raise
    request.state.user_id = principal.user_id
    return principal


async def request_context(request: Request) -> Context:
    """FastAPI dependency: the authenticated resolver Context of this request."""
    principal = await authenticate(request)
    return Context(principal=principal, db=services(request).db)
