"""Migrations: the migrated database is exactly what the models declare, on both databases."""

from __future__ import annotations

import re
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import CheckConstraint, Connection, String, create_engine, inspect, text

from persistence.database import Database
from persistence.errors import DatabaseUnavailable
from persistence.migrate import (
    METADATA,
    check_schema,
    differences,
    head_revisions,
    upgrade,
)
from persistence.urls import parse_database_url

pytestmark = pytest.mark.anyio


async def test_the_migrated_schema_matches_the_models(database_url: str):
    database = Database.connect(parse_database_url(database_url))
    try:
        async with database.engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await database.dispose()


async def test_the_migrated_tables_have_the_models_text_lengths_and_check_constraints(
        database_url: str):
    """What the migration drift check leaves out: string lengths and CHECK constraints."""
    database = Database.connect(parse_database_url(database_url))
    try:
        async with database.engine.connect() as connection:
            lengths, checks = await connection.run_sync(_reflected)
            dialect = connection.dialect.name
    finally:
        await database.dispose()
    for table in METADATA.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String):
                assert lengths[table.name, column.name] == column.type.length, column
        for constraint in table.constraints:
            if isinstance(constraint, CheckConstraint):
                migrated, declared = checks[table.name, constraint.name], str(constraint.sqltext)
                if dialect == "sqlite":  # kept as written; PostgreSQL rewrites it with casts
                    assert migrated == declared
                assert _QUOTED.findall(migrated) == _QUOTED.findall(declared), constraint.name


_QUOTED = re.compile(r"'([^']*)'")


def _reflected(connection: Connection) -> tuple[dict[tuple[str, str], int | None],
                                               dict[tuple[str, str | None], str]]:
    inspector = inspect(connection)
    lengths, checks = {}, {}
    for table in inspector.get_table_names():
        for column in inspector.get_columns(table):
            lengths[table, column["name"]] = getattr(column["type"], "length", None)
        for check in inspector.get_check_constraints(table):
            checks[table, check["name"]] = check["sqltext"]
    return lengths, checks


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
    url = f"sqlite+aiosqlite:///{tmp_path / 'not' / 'yet there' / 'todo.db'}"
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


def test_the_schema_check_gives_up_on_a_silent_database_after_its_connect_timeout():
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        port = silent.getsockname()[1]
        target = parse_database_url(f"postgresql://postgres@127.0.0.1:{port}/todo")
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable):
            check_schema(target, connect_timeout=0.5)
        assert time.monotonic() - started < 4  # not the pool's default of 5 s
