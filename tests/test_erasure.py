"""Erasure: a user (or an operator, for them) removes every row held about the user."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from app.factory import create_app
from app.settings import Settings
from persistence.database import Database
from persistence.urls import parse_database_url
from tests.doors import b_url, c_url
from tests.graphql_support import data
from tests.processes import ROOT
from tests.support import ALICE, BOB, assert_error, auth, empty_tables, make_task, tasks_url

pytestmark = pytest.mark.anyio

SECRET_TITLE = "my diary: do not log me"
TABLES = {"users": "id", "tasks": "user_id", "idempotency_keys": "user_id"}


async def rows_of(database_url: str, user: str) -> dict[str, int]:
    """How many rows of each table belong to ``user``."""
    database = Database.connect(parse_database_url(database_url))
    try:
        async with database.read() as connection:
            return {table: (await connection.execute(text(
                f"SELECT count(*) FROM {table} WHERE {column} = :user"),
                {"user": user})).scalar_one() for table, column in TABLES.items()}
    finally:
        await database.dispose()


async def orphans(database_url: str) -> int:
    """Rows whose owner has no users row (the foreign keys should make this impossible)."""
    database = Database.connect(parse_database_url(database_url))
    try:
        async with database.read() as connection:
            return sum([(await connection.execute(text(
                f"SELECT count(*) FROM {table} WHERE user_id NOT IN (SELECT id FROM users)"
            ))).scalar_one() for table in ("tasks", "idempotency_keys")])
    finally:
        await database.dispose()


async def fill(client: httpx.AsyncClient, user: str) -> None:
    """Tasks and an idempotency key for ``user``."""
    await make_task(client, user, title=SECRET_TITLE)
    keyed = await client.post(tasks_url(user), json={"title": "keyed"},
                              headers={**auth(user), "Idempotency-Key": "k1"})
    assert keyed.status_code == 201


EVERYTHING = {"users": 1, "tasks": 2, "idempotency_keys": 1}
NOTHING = {"users": 0, "tasks": 0, "idempotency_keys": 0}


async def test_delete_user_erases_every_row_of_the_caller_and_none_of_anyone_else(
        client: httpx.AsyncClient, database_url: str):
    await fill(client, ALICE)
    await fill(client, BOB)
    for _ in range(2):  # the second time there is nothing left: still 204
        response = await client.delete(f"/api/{ALICE}", headers=auth(ALICE))
        assert (response.status_code, response.content) == (204, b"")
        assert await rows_of(database_url, ALICE) == NOTHING
    assert await rows_of(database_url, BOB) == EVERYTHING
    listed = await client.get(c_url(), headers=auth(ALICE))
    assert (listed.status_code, listed.json()) == (200, [])


async def test_erasing_a_user_who_never_wrote_is_204(client: httpx.AsyncClient):
    response = await client.delete(f"/api/{ALICE}/", headers=auth(ALICE))
    assert response.status_code == 204


async def test_erasing_another_user_is_403_and_erases_nothing(client: httpx.AsyncClient,
                                                               database_url: str):
    await fill(client, BOB)
    assert_error(await client.delete(f"/api/{BOB}", headers=auth(ALICE)), 403, "FORBIDDEN")
    assert_error(await client.delete(f"/api/{BOB}"), 401, "UNAUTHENTICATED")
    assert await rows_of(database_url, BOB) == EVERYTHING


async def test_other_families_keep_their_paths(client: httpx.AsyncClient):
    for path in ("/api/tasks", "/api/v1"):
        response = await client.delete(path, headers=auth(ALICE))
        assert response.status_code in (404, 405), path


async def test_graphql_delete_my_data_erases_every_row_of_the_caller(
        client: httpx.AsyncClient, database_url: str):
    await fill(client, ALICE)
    await fill(client, BOB)
    for _ in range(2):
        result = await data(client, ALICE, "mutation { deleteMyData }")
        assert result == {"deleteMyData": True}
        assert await rows_of(database_url, ALICE) == NOTHING
    assert await rows_of(database_url, BOB) == EVERYTHING


@asynccontextmanager
async def own_app(settings: Settings, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """An app created inside the test, so that its log lines are captured."""
    app = create_app(settings)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://testserver") as http:
            yield http
    finally:
        await app.state.services.db.dispose()
        await empty_tables(database_url)


async def test_every_erasure_is_audited_with_counts_and_no_contents(
        settings: Settings, database_url: str, capsys: pytest.CaptureFixture[str]):
    async with own_app(settings, database_url) as client:
        await fill(client, ALICE)
        capsys.readouterr()
        assert (await client.delete(f"/api/{ALICE}", headers=auth(ALICE))).status_code == 204
        assert (await client.delete(f"/api/{ALICE}", headers=auth(ALICE))).status_code == 204
    out = capsys.readouterr().out
    audits = [line for line in map(json.loads, out.splitlines())
              if line["logger"] == "todo_api.audit"]
    assert [{k: line[k] for k in ("message", "user_id", "requested_by", "tasks",
                                  "idempotency_keys", "user_row")} for line in audits] == [
        {"message": "user data erased", "user_id": ALICE, "requested_by": "user", "tasks": 2,
         "idempotency_keys": 1, "user_row": True},
        {"message": "user data erased", "user_id": ALICE, "requested_by": "user", "tasks": 0,
         "idempotency_keys": 0, "user_row": False},
    ]
    assert SECRET_TITLE not in out


def _cli(*args: str, database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=cwd, env={
        **environment, "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url,
        "BETTER_AUTH_SECRET": "cli-secret-0123456789-abcdefghijklmnopqrstuvwxyz"},
        capture_output=True, text=True, timeout=120, check=False)


async def test_an_operator_erases_a_user_from_the_cli(client: httpx.AsyncClient,
                                                      database_url: str, tmp_path: Path):
    await fill(client, ALICE)
    await fill(client, BOB)
    erased = await asyncio.to_thread(_cli, "erase-user", ALICE, database_url=database_url,
                                     cwd=tmp_path)
    assert erased.returncode == 0, erased.stderr
    assert f"erased user {ALICE!r}: 2 tasks, 1 idempotency keys" in erased.stderr
    [audit] = [json.loads(line) for line in erased.stdout.splitlines()]
    assert {k: audit[k] for k in ("logger", "user_id", "requested_by", "tasks")} == {
        "logger": "todo_api.audit", "user_id": ALICE, "requested_by": "operator", "tasks": 2}
    assert SECRET_TITLE not in erased.stdout + erased.stderr
    assert await rows_of(database_url, ALICE) == NOTHING
    assert await rows_of(database_url, BOB) == EVERYTHING
    again = await asyncio.to_thread(_cli, "erase-user", ALICE, database_url=database_url,
                                    cwd=tmp_path)
    assert again.returncode == 0
    assert "nothing is held" in again.stderr


async def test_writes_racing_an_erasure_leave_no_orphan_and_never_fail(
        client: httpx.AsyncClient, database_url: str):
    for round_ in range(4):
        ids = [(await make_task(client, ALICE, title=f"r{round_}-{n}"))["id"] for n in range(3)]
        writes = [
            client.post(tasks_url(ALICE), json={"title": "racer"}, headers=auth(ALICE)),
            client.post(b_url(ALICE), json={"title": "racer"},
                        headers={**auth(ALICE), "Idempotency-Key": f"race-{round_}"}),
            client.put(tasks_url(ALICE, ids[0]), json={"title": "edited"}, headers=auth(ALICE)),
            client.patch(c_url(ids[1], "/complete"), headers=auth(ALICE)),
            client.delete(tasks_url(ALICE, ids[2]), headers=auth(ALICE)),
            client.post("/graphql", json={"query": 'mutation { createTask(input: '
                                                   '{title: "racer"}) { id } }'},
                        headers=auth(ALICE)),
        ]
        erase = client.delete(f"/api/{ALICE}", headers=auth(ALICE))
        responses = await asyncio.gather(*writes[:3], erase, *writes[3:])
        assert {r.status_code for r in responses} <= {200, 201, 204, 404}, [
            r.text for r in responses]
        assert await orphans(database_url) == 0
        rows = await rows_of(database_url, ALICE)
        if rows["users"] == 0:
            assert rows == NOTHING
        assert (await client.delete(f"/api/{ALICE}", headers=auth(ALICE))).status_code == 204
