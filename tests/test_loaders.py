"""DataLoaders live for one request: they batch and cache within it and never beyond it.

Within one operation, any number of ``task(id:)`` fields cost one statement (test_graphql.py).
Here: the next request reads again, so it sees what another process (another replica, another
worker) changed in between, through every door.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Uuid, bindparam, text

from tests.doors import DOORS, Caller, Door, Result, door_id, make
from tests.graphql_support import count_statements, data
from tests.processes import Service, service
from tests.support import ALICE, empty_tables

pytestmark = pytest.mark.anyio

EVERY_DOOR = pytest.mark.parametrize("door", DOORS, ids=door_id)
COUNTS = "{ me { taskCounts { total pending completed } } }"


async def rename_elsewhere(app: FastAPI, task_id: str, title: str) -> None:
    """Change a task the way another process would: in the database, past this app."""
    statement = text("UPDATE tasks SET title = :title, version = version + 1 WHERE id = :id")
    async with app.state.services.db.transaction() as session:
        await session.execute(statement.bindparams(bindparam("id", type_=Uuid())),
                              {"title": title, "id": uuid.UUID(task_id)})


@EVERY_DOOR
async def test_each_request_reads_the_task_again(client: httpx.AsyncClient, app: FastAPI,
                                                 door: Door):
    task = await make(door, client, ALICE, title="before")
    alice = Caller.signed(ALICE)
    with count_statements(app) as first:
        assert (await door.get(client, alice, task["id"])).ok_task() == task
    with count_statements(app) as second:
        assert (await door.get(client, alice, task["id"])).ok_task() == task
    assert len(second) == len(first) >= 1  # nothing of the first request was kept
    await rename_elsewhere(app, task["id"], "after")
    read = (await door.get(client, alice, task["id"])).ok_task()
    assert (read["title"], read["version"]) == ("after", 2)


async def test_each_operation_counts_the_tasks_again(client: httpx.AsyncClient, app: FastAPI):
    task = await make(DOORS[0], client, ALICE, title="before")
    assert await data(client, ALICE, COUNTS) == {
        "me": {"taskCounts": {"total": 1, "pending": 1, "completed": 0}}}
    statement = text("UPDATE tasks SET status = 'completed', completed = :done, "
                     "completed_at = updated_at WHERE id = :id")
    async with app.state.services.db.transaction() as session:
        await session.execute(statement.bindparams(bindparam("id", type_=Uuid())),
                              {"done": True, "id": uuid.UUID(task["id"])})
    assert await data(client, ALICE, COUNTS) == {
        "me": {"taskCounts": {"total": 1, "pending": 0, "completed": 1}}}


# ---------------------------------------------------------------- two real processes


@pytest.fixture(scope="module")
def two_processes(database_url: str, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[tuple[Service, Service]]:
    """Two servers on one database, as two replicas behind a load balancer."""
    env = {"DATABASE_URL": database_url, "RATE_LIMIT": "100000/minute",
           "RATE_LIMIT_ANONYMOUS": "100000/minute"}
    logs = tmp_path_factory.mktemp("loaders")
    with service(env, logs / "first.log") as first, service(env, logs / "second.log") as second:
        yield first, second


@pytest.fixture
async def replicas(two_processes: tuple[Service, Service], database_url: str
                   ) -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
    """A client of each server; the tables are emptied afterwards."""
    first, second = two_processes
    async with (httpx.AsyncClient(base_url=first.url, timeout=15) as one,
                httpx.AsyncClient(base_url=second.url, timeout=15) as two):
        yield one, two
    await empty_tables(database_url)


@pytest.mark.slow
@EVERY_DOOR
async def test_a_change_through_another_process_is_seen_at_once(
        replicas: tuple[httpx.AsyncClient, httpx.AsyncClient], door: Door):
    one, two = replicas
    caller = Caller.signed(f"replica-{uuid.uuid4().hex[:8]}")
    task = (await door.create(one, caller, {"title": "v1"})).ok_task()
    for _ in range(2):
        assert (await door.get(one, caller, task["id"])).ok_task() == task
    updated = (await door.update(two, caller, task["id"], {"title": "v2"})).ok_task()
    assert (await door.get(one, caller, task["id"])).ok_task() == updated
    (await door.delete(two, caller, task["id"])).ok()
    assert (await door.get(one, caller, task["id"])).result is Result.NOT_FOUND


@pytest.mark.slow
async def test_task_counts_follow_a_change_through_another_process(
        replicas: tuple[httpx.AsyncClient, httpx.AsyncClient]):
    one, two = replicas
    user = f"replica-{uuid.uuid4().hex[:8]}"
    task = await make(DOORS[0], one, user)
    assert await data(one, user, COUNTS) == {
        "me": {"taskCounts": {"total": 1, "pending": 1, "completed": 0}}}
    (await DOORS[0].toggle(two, Caller.signed(user), task["id"])).ok()
    assert await data(one, user, COUNTS) == {
        "me": {"taskCounts": {"total": 1, "pending": 0, "completed": 1}}}
    (await DOORS[0].delete(two, Caller.signed(user), task["id"])).ok()
    assert await data(one, user, COUNTS) == {
        "me": {"taskCounts": {"total": 0, "pending": 0, "completed": 0}}}
