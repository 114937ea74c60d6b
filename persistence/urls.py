"""Translate the database URLs people paste (Neon, Heroku-style, SQLite) into SQLAlchemy's terms."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from persistence.tls import TlsParameters, TlsSettingError, asyncpg_ssl


def development_url(data_dir: Path) -> str:
    """The embedded database used when no DATABASE_URL is configured (development only)."""
    return f"sqlite+aiosqlite:///{data_dir / 'todo.db'}"


_POSTGRES_SCHEMES = {"postgres", "postgresql", "postgresql+asyncpg", "postgresql+psycopg"}
_SQLITE_SCHEMES = {"sqlite", "sqlite+aiosqlite"}
# libpq options asyncpg does not understand; the TLS ones are translated, the rest dropped.
_TLS_OPTIONS = ("sslmode", "sslrootcert", "sslcert", "sslkey")
_LIBPQ_ONLY = {*_TLS_OPTIONS, "channel_binding", "options", "application_name",
               "connect_timeout", "target_session_attrs", "gssencmode"}


class DatabaseUrlError(ValueError):
    """The URL cannot be used to reach a supported database."""


@dataclass(frozen=True)
class DatabaseTarget:
    """Everything needed to build an engine for one database."""

    url: URL
    connect_args: dict[str, Any] = field(default_factory=dict)
    behind_pgbouncer: bool = False
    tls: TlsParameters = field(default_factory=TlsParameters)
    hosts: tuple[str, ...] = ()  # as the driver receives them: names, addresses, socket paths

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"


def _unique_statement_name() -> str:
    return f"__asyncpg_{uuid.uuid4().hex}__"


def parse_database_url(raw: str, *, pgbouncer: bool = False) -> DatabaseTarget:
    """Return the engine target for ``raw``; raise DatabaseUrlError when it is unusable.

    ``pgbouncer``: the database is reached through PgBouncer (a Neon "-pooler" host says so itself).
    """
    try:
        url = make_url(raw.strip())
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
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
    return _postgres_target(url, pgbouncer=pgbouncer)


def _postgres_target(url: URL, *, pgbouncer: bool) -> DatabaseTarget:
    connect_args: dict[str, Any] = {}
    tls = _tls_parameters(url)
    try:
        ssl = asyncpg_ssl(tls)
    except TlsSettingError as exc:
        raise DatabaseUrlError(str(exc)) from None
    if ssl is not None:
        connect_args["ssl"] = ssl
    query = {k: v for k, v in url.query.items() if k not in _LIBPQ_ONLY}
    behind_pgbouncer = pgbouncer or "-pooler" in (url.host or "")
    if behind_pgbouncer:
        # PgBouncer in transaction mode cannot keep prepared statements across transactions.
        query["prepared_statement_cache_size"] = "0"
        connect_args["statement_cache_size"] = 0
        connect_args["prepared_statement_name_func"] = _unique_statement_name
    url = url.set(drivername="postgresql+asyncpg", query=query)
    return DatabaseTarget(url=url, connect_args=connect_args, behind_pgbouncer=behind_pgbouncer,
                          tls=tls, hosts=_driver_hosts(url))


def _driver_hosts(url: URL) -> tuple[str, ...]:
    """The hosts SQLAlchemy hands asyncpg for ``url`` (from its address or ``host=`` lists)."""
    try:
        host = _ASYNCPG.create_connect_args(url)[1].get("host")  # type: ignore[no-untyped-call]
    except (ArgumentError, ValueError) as exc:
        raise DatabaseUrlError(f"has a host list the driver cannot use ({exc})") from None
    return tuple(host) if isinstance(host, list) else (str(host or ""),)


_ASYNCPG = PGDialect_asyncpg()  # type: ignore[no-untyped-call]

def _tls_parameters(url: URL) -> TlsParameters:
    values: dict[str, str] = {}
    for name in _TLS_OPTIONS:
        value = url.query.get(name)
        if isinstance(value, tuple):  # which one would win is a guess: refuse it
            raise DatabaseUrlError(f"gives {name} more than once")
        if value is not None:
            values[name] = value
    return TlsParameters(**values)
