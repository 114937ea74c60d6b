"""Alembic environment: runs migrations over the service's own async engine."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from persistence.database import Database
from persistence.migrate import METADATA, include_object
from persistence.urls import development_url, parse_database_url

target_metadata = METADATA
MIGRATION_LOCK = 0x70D0A91  # any constant shared by every replica of this service


def _database_url() -> str:
    url = context.config.attributes.get("database_url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    data_dir = Path(os.environ.get("TODO_API_DATA_DIR") or ".data")
    return str(url or os.environ.get("DATABASE_URL") or development_url(data_dir))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object(connection.dialect.name),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # replicas starting together migrate one after the other, not over each other
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


async def _run_online() -> None:
    database = Database.connect(parse_database_url(_database_url()))
    try:
        async with database.engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await database.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `todo-api migrate`")
asyncio.run(_run_online())
