"""The application factory: settings in, a wired FastAPI app out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app import health, metrics
from app.context import Services
from app.devpages import install_docs
from app.logs import configure_logging
from app.middleware import BodyLimitMiddleware, RequestMiddleware
from app.problems import Problem
from app.ratelimit import RateLimiter
from app.settings import Settings, load_settings
from app.tokens import demo_token
from auth.jwks import JwksCache
from auth.verifier import TokenPolicy, TokenVerifier
from persistence.database import Database
from rest_compat import surface_a, surface_b, surface_c
from rest_compat.openapi import TAGS, install_openapi
from rest_compat.routing import DetailFormat, render_problem, surface_errors
from schema.router import GraphQLRouter

_FALLBACK_ERRORS = DetailFormat(validation_status=400)
CORS_MAX_AGE_SECONDS = 600
HTTP_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
API_DESCRIPTION = (
    "Every call needs `Authorization: Bearer <JWT>`, a token from Better Auth (or one signed with "
    "the shared secret); each user sees and changes only their own tasks. The three REST families "
    "below serve the same tasks: new clients should use **Tasks**. GraphQL, with the same rules, "
    "is at `/graphql` (its schema is `schema.graphql`)."
)
EXPOSED_HEADERS = ["ETag", "Location", "Link", "X-Total-Count", "X-Request-ID", "Retry-After",
                   "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]


def build_services(settings: Settings) -> Services:
    """The process-wide database and token verifier for ``settings``."""
    database = Database.connect(
        settings.database,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        connect_timeout=settings.db_connect_timeout_seconds,
        statement_timeout=settings.db_statement_timeout_seconds,
    )
    jwks = (JwksCache(settings.better_auth_jwks_url,
                      min_refresh_seconds=settings.jwks_min_refresh_seconds)
            if settings.better_auth_jwks_url else None)
    secret = settings.better_auth_secret.get_secret_value() if settings.better_auth_secret else None
    policy = TokenPolicy(issuer=settings.issuer, audience=settings.audience,
                         leeway_seconds=settings.jwt_leeway_seconds)
    limiter = RateLimiter(per_user=settings.rate_limit, per_address=settings.rate_limit_anonymous,
                          storage_url=settings.rate_limit_storage_url,
                          key_prefix=settings.rate_limit_key_prefix)
    return Services(settings=settings, db=database, rate_limiter=limiter,
                    verifier=TokenVerifier(secret=secret, jwks=jwks, policy=policy))


def create_app(settings: Settings | None = None) -> FastAPI:
    """A ready-to-serve application (configured from the environment when no settings given)."""
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    services = build_services(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await services.db.dispose()

    app = FastAPI(
        title="Todo API",
        version="1.0.0",
        summary="Each signed-in user's tasks, over REST and GraphQL",
        description=API_DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        redirect_slashes=False,
        docs_url=None,  # served offline by install_docs
        redoc_url=None,
    )
    app.state.services = services
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "X-Request-ID"],
            expose_headers=EXPOSED_HEADERS, max_age=CORS_MAX_AGE_SECONDS,
        )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestMiddleware)  # added last: outermost, so it sees every response
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.include_router(health.router)
    app.include_router(metrics.router)
    # C and B first: their literal segments (/api/tasks, /api/v1) must win over A's {user_id}.
    app.include_router(surface_c.router)
    app.include_router(surface_b.router)
    app.include_router(surface_a.router)
    app.include_router(GraphQLRouter(settings), include_in_schema=False)
    install_openapi(app)
    install_docs(app, authorization_provider=lambda: demo_token(settings))
    return app


async def _http_error(request: Request, error: Exception) -> Response:
    """Unknown paths and methods, in the same error shape as everything else."""
    assert isinstance(error, StarletteHTTPException)
    codes = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
    headers = dict(error.headers or {})
    if error.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    problem = Problem(error.status_code, codes.get(error.status_code, "HTTP_ERROR"),
                      str(error.detail), headers=headers)
    return render_problem(problem, request, surface_errors(request, _FALLBACK_ERRORS))


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette's 405 names only one route's)."""
    routes = request.app.router.routes
    return ", ".join(method for method in HTTP_METHODS if any(
        route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes))
