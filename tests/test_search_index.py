"""Searches over 100,000 tasks of one user read only the matches, through the trigram indexes.

PostgreSQL only (SQLite scans, for development). The statements are the service's own, taken
from a request, and explained as asyncpg runs them: prepared once, run many times. The
service's sessions plan each run for its own values (``plan_cache_mode=force_custom_plan``):
the generic plan PostgreSQL would otherwise switch a prepared statement to after five runs is
made for no user in particular, and with one user holding nearly every row it walks that
user's rows for everyone. Work is counted in rows read, never timed.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from app.factory import create_app
from app.settings import Settings
from persistence.migrate import upgrade
from tests.support import TEST_SECRET, auth

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

HEAVY, VICTIM = "heavy-user", "victim-user"
TASKS, NEEDLES, VICTIM_TASKS = 100_000, 100, 5
TRIGRAM_INDEXES = {"ix_tasks_user_id_title_trgm", "ix_tasks_user_id_description_trgm"}
RUNS_BEFORE = 10
"""Runs of a prepared statement before the one explained (PostgreSQL may go generic after 5)."""
MOST_ROWS_READ = 1_000
"""Rows a search for the 100 needles may read, all scans of the plan together (not 100,000)."""

SEED = f"""
INSERT INTO users (id, created_at, updated_at)
VALUES ('{HEAVY}', now(), now()), ('{VICTIM}', now(), now());
INSERT INTO tasks (id, user_id, title, description, completed, completed_at, status, priority,
                   due_date, created_at, updated_at, version)
SELECT md5(owner || ':' || n)::uuid, owner,
       CASE WHEN n % ({TASKS} / {NEEDLES}) = 0 THEN 'Find the needle ' || n
            ELSE 'Task ' || n || ' ' || md5(n::text) END,
       CASE WHEN n % 5 = 0 THEN NULL ELSE 'Notes ' || md5('notes' || n) END,
       false, NULL, 'pending', 'medium', NULL,
       timestamptz '2025-01-01' + make_interval(mins => n),
       timestamptz '2025-01-01' + make_interval(mins => n), 1
FROM (SELECT '{HEAVY}' AS owner, n FROM generate_series(1, {TASKS}) AS n
      UNION ALL
      SELECT '{VICTIM}', n FROM generate_series(1, {VICTIM_TASKS}) AS n) AS seeded;
ANALYZE tasks;
"""


def _psql(database: str, sql: str) -> None:
    host = os.environ.get("TEST_PG_HOST", "127.0.0.1")
    port = os.environ.get("TEST_PG_PORT", "5432")
    user = os.environ.get("TEST_PG_USER", "postgres")
    subprocess.run(["psql", "-h", host, "-p", port, "-U", user, "-d", database,
                    "-v", "ON_ERROR_STOP=1", "-qc", sql],
                   check=True, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def big_database_url() -> Iterator[str]:
    """A PostgreSQL database with one user of 100,000 tasks and one of five, dropped after."""
    name = f"todo_search_{uuid.uuid4().hex[:12]}"
    host = os.environ.get("TEST_PG_HOST", "127.0.0.1")
    port = os.environ.get("TEST_PG_PORT", "5432")
    user = os.environ.get("TEST_PG_USER", "postgres")
    _psql("postgres", f"CREATE DATABASE {name}")
    url = f"postgresql://{user}@{host}:{port}/{name}"
    try:
        upgrade(url)
        _psql(name, SEED)  # one INSERT ... SELECT generate_series, not 100,000 API calls
        yield url
    finally:
        _psql("postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
async def big_app(big_database_url: str) -> AsyncIterator[FastAPI]:
    settings = Settings(database_url=big_database_url, better_auth_secret=TEST_SECRET,
                        rate_limit="100000/minute", _env_file=None)  # type: ignore[call-arg]
    application = create_app(settings.validated())
    yield application
    await application.state.services.db.dispose()


@pytest.fixture
async def big_client(big_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=big_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@contextmanager
def recorded_statements(app: FastAPI) -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    """Every statement the app sends while the block runs, with its bound parameters."""
    statements: list[tuple[str, tuple[Any, ...]]] = []
    engine = app.state.services.db.engine.sync_engine

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, tuple(parameters)))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _literal(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str | uuid.UUID):
        return "'" + str(value).replace("'", "''") + "'"
    raise TypeError(type(value).__name__)


async def explain(app: FastAPI, statement: str, parameters: tuple[Any, ...], *,
                  runs_before: tuple[Any, ...] | None = None) -> dict[str, Any]:
    """EXPLAIN ANALYZE of ``statement`` prepared in a session of the service, as asyncpg does.

    It first runs RUNS_BEFORE times with ``runs_before`` (default: ``parameters``), so the
    plan explained is the one a long-lived pooled connection would use.
    """
    def call(values: tuple[Any, ...]) -> str:
        return "EXECUTE explained(" + ", ".join(_literal(value) for value in values) + ")"

    async with app.state.services.db.transaction() as connection:
        await connection.exec_driver_sql(f"PREPARE explained AS {statement}")
        for _ in range(RUNS_BEFORE):
            await connection.exec_driver_sql(call(runs_before or parameters))
        result = await connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {call(parameters)}")
        plan = result.scalar_one()
        await connection.exec_driver_sql("DEALLOCATE explained")
    document = json.loads(plan) if isinstance(plan, str) else plan
    return document[0]["Plan"]  # type: ignore[no-any-return]


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def rows_read(plan: dict[str, Any]) -> int:
    """Rows every scan of the table returned or threw away: the work a plan does."""
    return sum(int(node.get("Actual Rows", 0)) + int(node.get("Rows Removed by Filter", 0))
               + int(node.get("Rows Removed by Index Recheck", 0))
               for node in nodes(plan) if node.get("Relation Name") == "tasks")


async def _search_statements(client: httpx.AsyncClient, app: FastAPI, user: str, query: str
                             ) -> tuple[httpx.Response, list[tuple[str, tuple[Any, ...]]]]:
    with recorded_statements(app) as statements:
        response = await client.get(f"/api/{user}/tasks?{query}", headers=auth(user))
    assert response.status_code == 200, response.text
    return response, statements


async def test_searching_100000_tasks_reads_only_the_matches_through_the_trigram_indexes(
        big_client: httpx.AsyncClient, big_app: FastAPI):
    response, statements = await _search_statements(big_client, big_app, HEAVY, "q=NEEDLE")
    assert response.headers["x-total-count"] == str(NEEDLES)
    assert len(response.json()) == NEEDLES
    assert all("needle" in task["title"] for task in response.json())
    [(statement, parameters)] = statements  # the page and its total: one statement
    plan = await explain(big_app, statement, parameters)
    used = {node.get("Index Name") for node in nodes(plan)}
    assert used >= TRIGRAM_INDEXES, used
    assert rows_read(plan) <= MOST_ROWS_READ, rows_read(plan)


async def test_a_search_matching_nothing_counts_through_the_trigram_indexes(
        big_client: httpx.AsyncClient, big_app: FastAPI):
    response, statements = await _search_statements(big_client, big_app, HEAVY, "q=haystack")
    assert (response.json(), response.headers["x-total-count"]) == ([], "0")
    assert len(statements) == 2  # the empty page, then its total
    for statement, parameters in statements:
        plan = await explain(big_app, statement, parameters)
        assert {node.get("Index Name") for node in nodes(plan)} >= TRIGRAM_INDEXES, statement
        assert rows_read(plan) <= MOST_ROWS_READ, rows_read(plan)


async def test_another_users_list_reads_only_their_own_rows_after_the_heavy_users_runs(
        big_client: httpx.AsyncClient, big_app: FastAPI):
    for query in ("", "sort=title&order=asc", "status=pending&sort=priority", "priority=medium"):
        response, statements = await _search_statements(big_client, big_app, VICTIM, query)
        assert response.headers["x-total-count"] == str(VICTIM_TASKS), query
        [(statement, parameters)] = statements
        assert parameters[0] == VICTIM
        heavy = (HEAVY, *parameters[1:])  # the same statement, run for the heavy user first
        plan = await explain(big_app, statement, parameters, runs_before=heavy)
        assert rows_read(plan) <= 2 * VICTIM_TASKS, (query, rows_read(plan))


async def test_every_session_bounds_its_statements_and_plans_them_for_their_own_values(
        big_app: FastAPI):
    async with big_app.state.services.db.read() as connection:
        settings = {name: (await connection.exec_driver_sql(f"SHOW {name}")).scalar_one()
                    for name in ("plan_cache_mode", "statement_timeout")}
    assert settings == {"plan_cache_mode": "force_custom_plan", "statement_timeout": "10s"}
