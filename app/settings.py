"""Configuration from the environment (and an optional .env), validated once at start-up."""

from __future__ import annotations

import re
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.transport import PlaintextConnection, plaintext_connections, private_network_warning
from persistence.database import PoolLimits
from persistence.urls import (
    DatabaseTarget,
    DatabaseUrlError,
    development_url,
    parse_database_url,
)
from plumbing.ratelimit import parse_limit, storage_uri
from resolvers.domain import MAX_TASKS_PER_USER

MIN_SECRET_LENGTH = 32
DEV_SECRET_FILE_NAME = "dev-secret"  # noqa: S105 (a file name, not a secret)
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
DEVELOPMENT_ORIGINS = ("http://localhost:3000",)  # the Next.js dev server


class ConfigError(ValueError):
    """A setting makes start-up impossible; the message names the variable."""


class Settings(BaseSettings):
    """Every knob of the service; names match the environment variables."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    app_env: Literal["development", "production"] = "development"
    port: int = Field(8000, ge=1, le=65535)
    todo_api_data_dir: Path = Path(".data")  # development: the SQLite file and the secret
    database_url: str | None = None
    database_pooler: Literal["", "pgbouncer"] = ""
    db_pool_size: int = Field(PoolLimits.pool_size, ge=1, le=200)
    db_max_overflow: int = Field(PoolLimits.max_overflow, ge=0, le=200)
    db_pool_timeout_seconds: float = Field(PoolLimits.pool_timeout, gt=0)
    db_connect_timeout_seconds: float = Field(PoolLimits.connect_timeout, gt=0)
    db_statement_timeout_seconds: float = Field(PoolLimits.statement_timeout, gt=0)
    allow_unencrypted_private_network: bool = False

    better_auth_secret: SecretStr | None = None
    better_auth_jwks_url: str | None = None
    better_auth_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_seconds: int = Field(30, ge=0, le=600)
    jwks_min_refresh_seconds: float = Field(30.0, ge=0)
    jwks_timeout_seconds: float = Field(5.0, gt=0, le=60)

    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    max_tasks_per_user: int = Field(MAX_TASKS_PER_USER, ge=1)
    log_level: str = "info"
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    rate_limit: str = "120/minute"
    rate_limit_anonymous: str = "30/minute"
    rate_limit_storage_url: str | None = None
    rate_limit_key_prefix: str = "todo-api"
    max_requests_in_flight_per_user: int = Field(8, ge=1, le=10_000)
    forwarded_allow_ips: str = "127.0.0.1"
    web_concurrency: int = Field(1, ge=1, le=64)  # worker processes of `todo-api serve`
    shutdown_timeout_seconds: int = Field(20, ge=1, le=600)  # for requests still running at SIGTERM
    prometheus_multiproc_dir: str | None = None
    graphql_graphiql: bool | None = None  # None: on in development, off in production
    graphql_introspection: bool | None = None  # None: on in development, off in production
    graphql_max_depth: int = Field(10, ge=1, le=100)
    graphql_max_aliases: int = Field(30, ge=0, le=1000)
    graphql_max_tokens: int = Field(2000, ge=10, le=100_000)
    graphql_max_query_length: int = Field(32_768, ge=100, le=1024 * 1024)
    graphql_max_selections: int = Field(1000, ge=1, le=100_000)
    graphql_max_cost: int = Field(5000, ge=1, le=10_000_000)
    graphql_max_list_fields: int = Field(10, ge=1, le=1000)

    http_max_header_bytes: int = Field(16 * 1024, ge=1024, le=1024 * 1024)
    http_max_headers: int = Field(100, ge=10, le=10_000)
    http_header_timeout_seconds: float = Field(10.0, gt=0, le=3600)
    http_body_timeout_seconds: float = Field(30.0, gt=0, le=3600)
    http_keepalive_timeout_seconds: float = Field(5.0, gt=0, le=3600)
    http_max_connections: int = Field(2048, ge=1, le=1_000_000)

    @model_validator(mode="before")
    @classmethod
    def _split_origins(cls, data: dict[str, object]) -> dict[str, object]:
        origins = data.get("cors_origins")
        if isinstance(origins, str):
            data["cors_origins"] = [o.strip() for o in origins.split(",") if o.strip()]
        return data

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def graphiql_enabled(self) -> bool:
        enabled = self.graphql_graphiql
        return enabled if enabled is not None else not self.is_production

    @property
    def introspection_enabled(self) -> bool:
        enabled = self.graphql_introspection
        return enabled if enabled is not None else not self.is_production

    @property
    def allowed_origins(self) -> list[str]:
        """CORS_ORIGINS; when it is unset in development, the Next.js dev server's origin."""
        if self.cors_origins or self.is_production:
            return list(self.cors_origins)
        return list(DEVELOPMENT_ORIGINS)

    @property
    def issuer(self) -> str | None:
        return self.jwt_issuer or self.better_auth_url

    @property
    def audience(self) -> str | None:
        return self.jwt_audience or self.better_auth_url

    @property
    def configured_database_url(self) -> str:
        """DATABASE_URL, or the embedded development database in the data directory."""
        return self.database_url or development_url(self.todo_api_data_dir)

    @cached_property
    def database(self) -> DatabaseTarget:
        """The parsed database target (valid: checked by ``validated``)."""
        raw = self.configured_database_url
        return parse_database_url(raw, pgbouncer=self.database_pooler == "pgbouncer")

    @property
    def pool_limits(self) -> PoolLimits:
        return PoolLimits(pool_size=self.db_pool_size, max_overflow=self.db_max_overflow,
                          pool_timeout=self.db_pool_timeout_seconds,
                          connect_timeout=self.db_connect_timeout_seconds,
                          statement_timeout=self.db_statement_timeout_seconds)

    def unencrypted_connections(self) -> list[PlaintextConnection]:
        """Connections to other machines without TLS (production needs them declared private)."""
        return plaintext_connections(self.database, self.rate_limit_storage_url,
                                     self.better_auth_jwks_url)

    def private_network_warning(self) -> str | None:
        """In production, what travels unencrypted by leave of ALLOW_UNENCRYPTED_PRIVATE_NETWORK."""
        plaintext = self.unencrypted_connections() if self.is_production else []
        return private_network_warning(plaintext) if plaintext else None

    def validated(self) -> Settings:
        """Return self, or raise ConfigError naming the first unusable variable."""
        try:
            _ = self.database
        except DatabaseUrlError as exc:
            raise ConfigError(f"DATABASE_URL {exc}") from exc
        secret = self.better_auth_secret.get_secret_value() if self.better_auth_secret else ""
        if secret and len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(f"BETTER_AUTH_SECRET must be at least {MIN_SECRET_LENGTH} characters")
        if secret and len(set(secret)) < 8:
            raise ConfigError("BETTER_AUTH_SECRET is too weak: use a random value")
        self._validate_operations()
        if self.is_production:
            self._validate_production(secret)
        return self

    def _validate_operations(self) -> None:
        for name, value in (("RATE_LIMIT", self.rate_limit),
                            ("RATE_LIMIT_ANONYMOUS", self.rate_limit_anonymous)):
            try:
                parse_limit(value)
            except ValueError as exc:
                raise ConfigError(f"{name} {exc}") from exc
        try:
            storage_uri(self.rate_limit_storage_url)
        except ValueError as exc:
            raise ConfigError(f"RATE_LIMIT_STORAGE_URL {exc}") from exc
        for origin in self.cors_origins:
            if origin != "*" and not _ORIGIN.match(origin):
                raise ConfigError(
                    f"CORS_ORIGINS entry {origin!r} is not an origin such as https://app.example.com"
                )

    def _validate_production(self, secret: str) -> None:
        if not secret and not self.better_auth_jwks_url:
            raise ConfigError(
                "BETTER_AUTH_SECRET (or BETTER_AUTH_JWKS_URL) must be set in production"
            )
        if not self.database_url:
            raise ConfigError("DATABASE_URL must be set in production")
        if self.database.is_sqlite:
            raise ConfigError("DATABASE_URL names an SQLite file, which is for development only: "
                              "use PostgreSQL (postgresql://...) in production")
        plaintext = self.unencrypted_connections()
        if plaintext and not self.allow_unencrypted_private_network:
            raise ConfigError(plaintext[0].refusal())
        if "*" in self.cors_origins:
            raise ConfigError("CORS_ORIGINS must list origins in production, not '*'")


def load_settings(*, create_dev_secret: bool = True, **overrides: object) -> Settings:
    """Read settings from the environment; in development, fill in the local secret.

    Without ``create_dev_secret`` a missing development secret is a ConfigError saying where
    it was looked for, rather than a new secret that no running server knows.
    """
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]).upper() if error["loc"] else "configuration"
        raise ConfigError(f"{name} {error['msg'][:1].lower()}{error['msg'][1:]}") from None
    needs_dev_secret = not (settings.better_auth_secret or settings.better_auth_jwks_url)
    if needs_dev_secret and not settings.is_production:
        secret = _dev_secret(settings.todo_api_data_dir, create=create_dev_secret)
        settings = settings.model_copy(update={"better_auth_secret": secret})
    return settings.validated()


def _dev_secret(data_dir: Path, *, create: bool) -> SecretStr:
    """A random secret kept in the data directory so that every process of a dev setup shares it."""
    path = data_dir / DEV_SECRET_FILE_NAME
    if not path.exists():
        if not create:
            raise ConfigError(
                f"no development secret at {path.absolute()}: run this in the folder where "
                "`todo-api serve` runs, or set TODO_API_DATA_DIR to that server's data "
                "folder (or BETTER_AUTH_SECRET to its secret)"
            )
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return SecretStr(path.read_text().strip())
