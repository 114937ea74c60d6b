"""Migrations: the migrated database is exactly what the models declare, on both databases."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from persistence.database import Database
from persistence.migrate import check_schema, differences, head_revisions, upgrade
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


def test_a_new_sqlite_file_gets_its_directories_and_migrating_again_changes_nothing(
        tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'not' / 'yet' / 'todo.db'}"
    for _ in range(2):
        upgrade(url)
    assert _differences(url) == []


def test_a_column_whose_type_differs_from_the_models_is_a_difference(tmp_path: Path):
    """On a database of its own: the shared test databases must keep their schema."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'todo.db'}"
    upgrade(url)
    with sqlite3.connect(tmp_path / "todo.db") as connection:  # same name, same NOT NULL
        connection.executescript("ALTER TABLE tasks DROP COLUMN version;"
                                 "ALTER TABLE tasks ADD COLUMN version TEXT NOT NULL DEFAULT '1';")
    changes = _differences(url)
    assert [(change[0][0], change[0][3]) for change in changes] == [("modify_type", "version")]


def _differences(url: str) -> list[Any]:
    engine = create_engine(url.replace("+aiosqlite", ""))
    try:
        with engine.connect() as connection:
            return differences(connection)
    finally:
        engine.dispose()


def test_the_schema_check_says_how_far_behind_a_database_is(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'todo.db'}"
    target = parse_database_url(url)
    heads = ", ".join(sorted(head_revisions()))
    needs = f"the code needs {heads}: run `todo-api migrate`"
    upgrade(url, "0001")
    assert check_schema(target, connect_timeout=5) == (
        f"the database schema is at revision 0001, {needs}")
    upgrade(url)
    assert check_schema(target, connect_timeout=5) is None
    empty = parse_database_url(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    assert check_schema(empty, connect_timeout=5) == (
        f"the database schema is at revision (none: never migrated), {needs}")
