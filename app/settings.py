"""Configuration from the environment (and an optional .env), validated once at start-up."""

from __future__ import annotations

import re
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from persistence.urls import DEVELOPMENT_URL, DatabaseTarget, DatabaseUrlError, parse_database_url
from plumbing.ratelimit import parse_limit, storage_uri

MIN_SECRET_LENGTH = 32
DATA_DIR = Path(".data")
DEV_SECRET_FILE = DATA_DIR / "dev-secret"
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


class ConfigError(ValueError):
    """A setting makes start-up impossible; the message names the variable."""


class Settings(BaseSettings):
    """Every knob of the service; names match the environment variables."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    app_env: Literal["development", "production"] = "development"
    database_url: str | None = None
    database_pooler: Literal["", "pgbouncer"] = ""
    db_pool_size: int = Field(20, ge=1, le=200)
    db_max_overflow: int = Field(0, ge=0, le=200)
    db_pool_timeout_seconds: float = Field(5.0, gt=0)
    db_connect_timeout_seconds: float = Field(5.0, gt=0)
    db_statement_timeout_seconds: float = Field(10.0, gt=0)

    better_auth_secret: SecretStr | None = None
    better_auth_jwks_url: str | None = None
    better_auth_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_seconds: int = Field(30, ge=0, le=600)
    jwks_min_refresh_seconds: float = Field(30.0, ge=0)

    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    log_level: str = "info"
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    rate_limit: str = "120/minute"
    rate_limit_anonymous: str = "30/minute"
    rate_limit_storage_url: str | None = None
    rate_limit_key_prefix: str = "todo-api"
    max_requests_in_flight_per_user: int = Field(8, ge=1, le=10_000)
    forwarded_allow_ips: str = "127.0.0.1"
    prometheus_multiproc_dir: str | None = None
    graphql_graphiql: bool | None = None  # None: on in development, off in production
    graphql_introspection: bool | None = None  # None: on in development, off in production
    graphql_max_depth: int = Field(10, ge=1, le=100)
    graphql_max_aliases: int = Field(30, ge=0, le=1000)
    graphql_max_tokens: int = Field(2000, ge=10, le=100_000)

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
    def issuer(self) -> str | None:
        return self.jwt_issuer or self.better_auth_url

    @property
    def audience(self) -> str | None:
        return self.jwt_audience or self.better_auth_url

    @cached_property
    def database(self) -> DatabaseTarget:
        """The parsed database target (valid: checked by ``validated``)."""
        raw = self.database_url or DEVELOPMENT_URL
        return parse_database_url(raw, pooler=self.database_pooler)

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
        if "*" in self.cors_origins:
            raise ConfigError("CORS_ORIGINS must list origins in production, not '*'")


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; in development, fill in a local secret."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]).upper() if error["loc"] else "configuration"
        raise ConfigError(f"{name} {error['msg'][:1].lower()}{error['msg'][1:]}") from None
    needs_dev_secret = not (settings.better_auth_secret or settings.better_auth_jwks_url)
    if needs_dev_secret and not settings.is_production:
        settings = settings.model_copy(update={"better_auth_secret": _dev_secret()})
    return settings.validated()


def _dev_secret() -> SecretStr:
    """A random secret kept in .data/ so that every process of a dev setup shares it."""
    DATA_DIR.mkdir(exist_ok=True)
    if not DEV_SECRET_FILE.exists():
        DEV_SECRET_FILE.touch(mode=0o600)
        DEV_SECRET_FILE.write_text(secrets.token_urlsafe(48))
    return SecretStr(DEV_SECRET_FILE.read_text().strip())
