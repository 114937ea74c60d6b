"""Apply the Alembic migrations to a database."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import persistence.models  # noqa: F401  (registers the tables)

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
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    command.upgrade(config, revision)


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
