"""Translate the database URLs people paste (Neon, Heroku-style, SQLite) into SQLAlchemy's terms."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

DEVELOPMENT_URL = "sqlite+aiosqlite:///.data/todo.db"
"""The embedded database used when no DATABASE_URL is configured (development only)."""
_POSTGRES_SCHEMES = {"postgres", "postgresql", "postgresql+asyncpg", "postgresql+psycopg"}
_SQLITE_SCHEMES = {"sqlite", "sqlite+aiosqlite"}
# libpq options asyncpg does not understand; sslmode is translated, the rest dropped.
_LIBPQ_ONLY = {"sslmode", "channel_binding", "sslrootcert", "sslcert", "sslkey", "options",
               "application_name", "connect_timeout", "target_session_attrs", "gssencmode"}
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}


class DatabaseUrlError(ValueError):
    """The URL cannot be used to reach a supported database."""


@dataclass(frozen=True)
class DatabaseTarget:
    """Everything needed to build an engine for one database."""

    url: URL
    connect_args: dict[str, Any] = field(default_factory=dict)
    behind_pgbouncer: bool = False

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"


def _unique_statement_name() -> str:
    return f"__asyncpg_{uuid.uuid4().hex}__"


def parse_database_url(raw: str, *, pooler: str = "") -> DatabaseTarget:
    """Return the engine target for ``raw``; raise DatabaseUrlError when it is unusable."""
    try:
        url = make_url(raw.strip())
    except ArgumentError as exc:
        raise DatabaseUrlError("is not a valid database URL") from exc
    scheme = url.drivername
    if scheme in _SQLITE_SCHEMES:
        if not url.database:
            raise DatabaseUrlError("names no SQLite file")
        return DatabaseTarget(url=url.set(drivername="sqlite+aiosqlite"))
    if scheme not in _POSTGRES_SCHEMES:
        raise DatabaseUrlError(f"uses the unsupported scheme {scheme!r}")
    if not url.host and not url.query.get("host"):
        raise DatabaseUrlError("names no host")
    if not url.database:
        raise DatabaseUrlError("names no database")
    return _postgres_target(url, pooler=pooler)


def _postgres_target(url: URL, *, pooler: str) -> DatabaseTarget:
    connect_args: dict[str, Any] = {}
    sslmode = url.query.get("sslmode")
    if isinstance(sslmode, str):
        if sslmode not in _SSL_MODES:
            raise DatabaseUrlError(f"has an unknown sslmode {sslmode!r}")
        connect_args["ssl"] = sslmode
    query = {k: v for k, v in url.query.items() if k not in _LIBPQ_ONLY}
    behind_pgbouncer = pooler == "pgbouncer" or "-pooler" in (url.host or "")
    if behind_pgbouncer:
        # PgBouncer in transaction mode cannot keep prepared statements across transactions.
        query["prepared_statement_cache_size"] = "0"
        connect_args["statement_cache_size"] = 0
        connect_args["prepared_statement_name_func"] = _unique_statement_name
    url = url.set(drivername="postgresql+asyncpg", query=query)
    return DatabaseTarget(url=url, connect_args=connect_args, behind_pgbouncer=behind_pgbouncer)
