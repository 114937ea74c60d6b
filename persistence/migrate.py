"""Apply the Alembic migrations to a database, and tell whether a database is at their head."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

import persistence.models  # noqa: F401  (registers the tables)
from persistence.database import Database, PoolLimits
from persistence.urls import DatabaseTarget

MIGRATIONS = Path(__file__).parent / "migrations"
METADATA = SQLModel.metadata
"""Every table, as the models declare it."""


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema at ``database_url`` to ``revision`` (blocking; creates SQLite files)."""
    # env.py runs its own event loop; a worker thread keeps that possible even when the
    # caller is itself inside one (an async test, a running server).
    with ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(_upgrade, database_url, revision).result()


def _upgrade(database_url: str, revision: str) -> None:
    if database_url.startswith("sqlite"):
        _ensure_sqlite_directory(database_url)
    config = _config()
    config.attributes["database_url"] = database_url
    command.upgrade(config, revision)


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _ensure_sqlite_directory(database_url: str) -> None:
    path = database_url.split(":///", 1)[-1].split("?", 1)[0]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def include_object(dialect: str) -> Callable[..., bool]:
    """Alembic's filter: schema objects declared for other databases only are left out."""

    def include(item: Any, name: str | None, kind: str, reflected: bool, other: Any) -> bool:
        dialects = getattr(item, "info", {}).get("dialects")
        return dialects is None or dialect in dialects

    return include


def differences(connection: Connection) -> list[Any]:
    """What autogenerate would change to make the database match the models (none: in sync)."""
    context = MigrationContext.configure(connection, opts={
        "compare_type": True, "include_object": include_object(connection.dialect.name)})
    return list(compare_metadata(context, METADATA))


@functools.cache
def head_revisions() -> frozenset[str]:
    """The revisions the code's migrations end at."""
    return frozenset(ScriptDirectory.from_config(_config()).get_heads())


async def schema_lag(connection: AsyncConnection) -> str | None:
    """None when the schema is at the code's migration head; otherwise what differs, in words."""
    current = frozenset(await connection.run_sync(_current_revisions))
    heads = head_revisions()
    if current == heads:
        return None
    return (f"the database schema is at revision {_names(current)}, the code needs "
            f"{_names(heads)}: run `todo-api migrate`")


def check_schema(target: DatabaseTarget, *, connect_timeout: float) -> str | None:
    """``schema_lag`` of the database at ``target`` (blocking; opens its own connection)."""
    return asyncio.run(_check_schema(target, connect_timeout))


async def _check_schema(target: DatabaseTarget, connect_timeout: float) -> str | None:
    database = Database.connect(target, PoolLimits(connect_timeout=connect_timeout))
    try:
        async with database.read() as connection:
            return await schema_lag(connection)
    finally:
        await database.dispose()


def _current_revisions(connection: Connection) -> tuple[str, ...]:
    return MigrationContext.configure(connection).get_current_heads()


def _names(revisions: frozenset[str]) -> str:
    return ", ".join(sorted(revisions)) or "(none: never migrated)"
