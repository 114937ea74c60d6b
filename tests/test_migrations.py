"""Migrations: the migrated database is exactly what the models declare, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from persistence.database import Database
from persistence.migrate import differences
from persistence.urls import parse_database_url

pytestmark = pytest.mark.anyio


async def test_the_migrated_schema_matches_the_models(database_url: str):
    database = Database.connect(parse_database_url(database_url))
    try:
        async with database.engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await database.dispose()


_TRIGRAM_INDEXES = {
    f"ix_tasks_user_id_{column}_trgm":
        f"CREATE INDEX ix_tasks_user_id_{column}_trgm ON public.tasks "
        f"USING gin (user_id, {column} gin_trgm_ops)"
    for column in ("title", "description")
}
_INDEXES_SQL = {
    "postgresql": "SELECT indexname, indexdef FROM pg_indexes "
                  "WHERE tablename = 'tasks' AND indexname LIKE '%trgm'",
    "sqlite": "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name LIKE '%trgm'",
}


async def test_searches_have_trigram_indexes_keyed_by_owner_on_postgresql_only(
        database_url: str):
    database = Database.connect(parse_database_url(database_url))
    try:
        async with database.read() as connection:
            rows = await connection.execute(text(_INDEXES_SQL[connection.dialect.name]))
            found = dict(rows.all())
    finally:
        await database.dispose()
    expected = _TRIGRAM_INDEXES if database_url.startswith("postgresql") else {}
    assert found == expected
