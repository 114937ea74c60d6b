"""Safe retries: a create repeated with its Idempotency-Key creates nothing more, on every door."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from resolvers.retries import purge_expired_keys
from tests.doors import assert_envelope_error, b_url, c_url
from tests.graphql_support import gql
from tests.support import ALICE, BOB, assert_error, auth, stored_instant, tasks_url

pytestmark = pytest.mark.anyio

KEY = "8e03978e-40d5-43e8-bc93-6894a57f9324"
CREATE = """mutation($input: CreateTaskInput!, $key: String) {
  createTask(input: $input, idempotencyKey: $key) { id title priority version createdAt }
}"""


@dataclass(frozen=True)
class RestDoor:
    """A REST create: its URL for a user, and where its body keeps the task."""

    name: str
    validation_status: int

    def url(self, user: str) -> str:
        return {"a": tasks_url(user), "b": b_url(user), "c": c_url()}[self.name]

    def task(self, response: httpx.Response) -> dict[str, Any]:
        body: dict[str, Any] = response.json()
        return body["data"]["task"] if self.name == "b" else body

    def assert_error(self, response: httpx.Response, status: int, code: str) -> dict[str, Any]:
        if self.name == "b":
            return assert_envelope_error(response, status, code)
        return assert_error(response, status, code)

    async def create(self, client: httpx.AsyncClient, user: str, body: dict[str, Any],
                     key: str | None = KEY) -> httpx.Response:
        headers = auth(user) | ({"Idempotency-Key": key} if key is not None else {})
        return await client.post(self.url(user), json=body, headers=headers)


DOORS = [RestDoor("a", 400), RestDoor("b", 422), RestDoor("c", 422)]
door_params = pytest.mark.parametrize("door", DOORS, ids=lambda door: door.name)


async def count_tasks(client: httpx.AsyncClient, user: str) -> int:
    response = await client.get(tasks_url(user), headers=auth(user))
    return int(response.headers["x-total-count"])


# ---------------------------------------------------------------- REST


@door_params
async def test_retry_with_the_same_key_replays_the_first_answer(client: httpx.AsyncClient,
                                                                door: RestDoor):
    first = await door.create(client, ALICE, {"title": "Buy milk", "priority": "high"})
    retry = await door.create(client, ALICE, {"title": "Buy milk", "priority": "high"})
    assert (first.status_code, retry.status_code) == (201, 201), retry.text
    assert retry.content == first.content
    for header in ("location", "etag", "content-type"):
        assert retry.headers[header] == first.headers[header]
    assert await count_tasks(client, ALICE) == 1


@door_params
async def test_the_replay_is_the_first_answer_even_after_the_task_changed(
        client: httpx.AsyncClient, door: RestDoor):
    first = await door.create(client, ALICE, {"title": "Buy milk"})
    task_id = door.task(first)["id"]
    changed = await client.put(tasks_url(ALICE, task_id), json={"title": "Buy oat milk"},
                               headers=auth(ALICE))
    assert changed.json()["version"] == 2
    retry = await door.create(client, ALICE, {"title": "Buy milk"})
    assert (retry.status_code, retry.content) == (201, first.content)
    assert retry.headers["etag"] == '"1"'
    deleted = await client.delete(tasks_url(ALICE, task_id), headers=auth(ALICE))
    assert deleted.status_code == 204
    again = await door.create(client, ALICE, {"title": "Buy milk"})
    assert (again.status_code, again.content) == (201, first.content)
    assert await count_tasks(client, ALICE) == 0


@door_params
async def test_the_same_key_with_another_body_is_422_and_creates_nothing(
        client: httpx.AsyncClient, door: RestDoor):
    assert (await door.create(client, ALICE, {"title": "Buy milk"})).status_code == 201
    reused = await door.create(client, ALICE, {"title": "Buy bread"})
    body = door.assert_error(reused, 422, "IDEMPOTENCY_KEY_REUSED")
    assert "errors" not in body
    assert await count_tasks(client, ALICE) == 1


@door_params
async def test_requests_without_a_key_still_create_every_time(client: httpx.AsyncClient,
                                                              door: RestDoor):
    for _ in range(2):
        assert (await door.create(client, ALICE, {"title": "t"}, key=None)).status_code == 201
    assert await count_tasks(client, ALICE) == 2


@door_params
@pytest.mark.parametrize("key", ["", " ", "x" * 256, "café", "tab\there", '"unterminated',
                                 '"bad \\escape"', '"a" trailing'])
async def test_a_malformed_key_is_a_validation_error(client: httpx.AsyncClient, door: RestDoor,
                                                     key: str):
    response = await client.post(door.url(ALICE), json={"title": "t"}, headers={
        **auth(ALICE), "Idempotency-Key": key.encode()})
    body = door.assert_error(response, door.validation_status, "VALIDATION_ERROR")
    errors = body["details"]["errors"] if door.name == "b" else body["errors"]
    assert errors[0]["field"] == "Idempotency-Key"
    assert await count_tasks(client, ALICE) == 0


@pytest.mark.parametrize(("key", "detail"), [
    ('""', "Idempotency-Key: must not be empty"),
    ("x" * 256, "Idempotency-Key: must be at most 255 characters"),
    ("café", "Idempotency-Key: must be printable ASCII text"),
])
async def test_a_malformed_key_is_told_what_is_wrong(client: httpx.AsyncClient, key: str,
                                                     detail: str):
    response = await client.post(tasks_url(ALICE), json={"title": "t"}, headers={
        **auth(ALICE), "Idempotency-Key": key.encode()})
    assert assert_error(response, 400, "VALIDATION_ERROR")["detail"] == detail


async def test_a_key_of_255_printable_characters_spaces_included_is_a_key(
        client: httpx.AsyncClient):
    key = "k " * 127 + "k"
    first = await DOORS[0].create(client, ALICE, {"title": "t"}, key=key)
    again = await DOORS[0].create(client, ALICE, {"title": "t"}, key=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert await count_tasks(client, ALICE) == 1


async def test_a_key_sent_twice_is_a_validation_error(client: httpx.AsyncClient):
    headers = [*auth(ALICE).items(), ("Idempotency-Key", "a"), ("Idempotency-Key", "b")]
    response = await client.post(tasks_url(ALICE), json={"title": "t"}, headers=headers)
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_a_quoted_key_is_the_same_key_as_the_bare_one(client: httpx.AsyncClient):
    door = DOORS[0]
    first = await door.create(client, ALICE, {"title": "t"}, key='"k\\"1"')
    retry = await door.create(client, ALICE, {"title": "t"}, key='k"1')
    assert (retry.status_code, retry.content) == (201, first.content)


async def test_keys_belong_to_one_user(client: httpx.AsyncClient):
    door = DOORS[0]
    alices = door.task(await door.create(client, ALICE, {"title": "same"}))
    bobs = door.task(await door.create(client, BOB, {"title": "same"}))
    assert alices["id"] != bobs["id"]
    assert (alices["user_id"], bobs["user_id"]) == (ALICE, BOB)
    assert (await count_tasks(client, ALICE), await count_tasks(client, BOB)) == (1, 1)


async def test_a_key_retried_through_another_door_answers_in_that_doors_format(
        client: httpx.AsyncClient):
    a, b, c = DOORS
    first = a.task(await a.create(client, ALICE, {"title": "t"}))
    via_c = await c.create(client, ALICE, {"title": "t"})
    via_b = await b.create(client, ALICE, {"title": "t"})
    assert (via_c.status_code, via_c.json()) == (201, first)
    assert via_c.headers["location"] == f"/api/tasks/{first['id']}"
    assert (via_b.status_code, b.task(via_b)) == (201, first)
    assert via_b.json()["message"] == "Task created successfully"
    assert await count_tasks(client, ALICE) == 1


async def test_a_failed_create_stores_no_key(client: httpx.AsyncClient):
    door = DOORS[0]
    failed = await door.create(client, ALICE, {"title": ""})
    assert_error(failed, 400, "VALIDATION_ERROR")
    assert (await door.create(client, ALICE, {"title": "fixed"})).status_code == 201


async def test_a_key_expires_after_24_hours(client: httpx.AsyncClient, app: FastAPI):
    door = DOORS[0]
    first = door.task(await door.create(client, ALICE, {"title": "t"}))
    async with app.state.services.db.transaction() as connection:
        stored = (await connection.execute(text(
            "SELECT created_at, expires_at FROM idempotency_keys"))).one()
        # the clock moves on a day (keys expire; nothing else here depends on the time)
        await connection.execute(text("UPDATE idempotency_keys SET expires_at = :past"),
                                 {"past": datetime.now(UTC) - timedelta(seconds=1)})
    lifetime = stored_instant(stored.expires_at) - stored_instant(stored.created_at)
    assert lifetime == timedelta(hours=24)
    second = door.task(await door.create(client, ALICE, {"title": "t"}))
    assert second["id"] != first["id"]
    async with app.state.services.db.read() as connection:
        assert (await connection.execute(text(
            "SELECT count(*) FROM idempotency_keys"))).scalar_one() == 1  # the old one purged


# ---------------------------------------------------------------- GraphQL


async def test_graphql_create_with_the_same_key_replays_the_first_task(
        client: httpx.AsyncClient):
    variables = {"input": {"title": "Call mum", "priority": "HIGH"}, "key": KEY}
    first = await gql(client, ALICE, CREATE, **variables)
    retry = await gql(client, ALICE, CREATE, **variables)
    assert first.json()["data"]["createTask"]["version"] == 1
    assert retry.json() == first.json()
    assert await count_tasks(client, ALICE) == 1


async def test_graphql_key_reused_with_another_input_is_an_error(client: httpx.AsyncClient):
    await gql(client, ALICE, CREATE, input={"title": "one"}, key=KEY)
    response = await gql(client, ALICE, CREATE, input={"title": "two"}, key=KEY)
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "IDEMPOTENCY_KEY_REUSED"}
    assert "idempotencyKey" in error["message"]
    assert await count_tasks(client, ALICE) == 1


async def test_graphql_and_rest_share_the_key(client: httpx.AsyncClient):
    first = DOORS[0].task(await DOORS[0].create(client, ALICE, {"title": "t"}))
    response = await gql(client, ALICE, CREATE, input={"title": "t"}, key=KEY)
    assert response.json()["data"]["createTask"]["id"] == first["id"]


async def test_graphql_malformed_key_is_a_validation_error(client: httpx.AsyncClient):
    response = await gql(client, ALICE, CREATE, input={"title": "t"}, key="")
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["extensions"]["errors"][0]["field"] == "idempotencyKey"


# ---------------------------------------------------------------- concurrency


async def test_20_concurrent_requests_with_one_key_create_one_task(client: httpx.AsyncClient):
    door = DOORS[0]
    responses = await asyncio.gather(*[door.create(client, ALICE, {"title": "once"})
                                       for _ in range(20)])
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {201, 409}, [r.text for r in responses]
    created = [r for r in responses if r.status_code == 201]
    assert created
    assert {r.content for r in created} == {created[0].content}
    for refused in (r for r in responses if r.status_code == 409):
        assert_error(refused, 409, "IDEMPOTENCY_KEY_IN_USE")
        assert refused.headers["retry-after"] == "1"
    assert await count_tasks(client, ALICE) == 1


async def test_a_retry_while_the_first_request_runs_is_409_in_use(
        client: httpx.AsyncClient, app: FastAPI, database_url: str):
    door = DOORS[0]
    await door.create(client, ALICE, {"title": "makes Alice's row"}, key=None)
    on_postgresql = database_url.startswith("postgresql")
    async with _alices_row_held(app, database_url):
        first = asyncio.ensure_future(door.create(client, ALICE, {"title": "slow"}))
        await asyncio.sleep(0.5)  # the first request now holds its key and waits for the row
        retrying = asyncio.ensure_future(door.create(client, ALICE, {"title": "slow"}))
        await asyncio.sleep(0.5)
        assert not first.done()
        assert retrying.done() is on_postgresql  # answered at once / queued behind the first
    created, retry = await first, await retrying
    assert created.status_code == 201
    if on_postgresql:
        assert_error(retry, 409, "IDEMPOTENCY_KEY_IN_USE")
    else:  # SQLite runs one write at a time: the retry waited for the first, then replayed it
        assert (retry.status_code, retry.content) == (201, created.content)
    replay = await door.create(client, ALICE, {"title": "slow"})
    assert (replay.status_code, replay.content) == (201, created.content)
    assert await count_tasks(client, ALICE) == 2


@contextlib.asynccontextmanager
async def _alices_row_held(app: FastAPI, database_url: str) -> AsyncIterator[None]:
    """Another connection holds a write lock that every write of Alice's must wait for."""
    from persistence.database import Database
    from persistence.urls import parse_database_url

    other = Database.connect(parse_database_url(database_url))
    try:
        async with other.engine.connect() as connection:
            if database_url.startswith("postgresql"):
                await connection.execute(text("BEGIN"))
                await connection.execute(text("SELECT id FROM users WHERE id = :id FOR UPDATE"),
                                         {"id": ALICE})
            else:
                await connection.exec_driver_sql("BEGIN IMMEDIATE")
            yield
            await connection.rollback()
    finally:
        await other.dispose()


@pytest.mark.usefixtures("server_five_hours_behind_utc")  # expiry is judged in UTC all the same
async def test_purging_deletes_every_users_expired_keys_and_keeps_the_rest(
        client: httpx.AsyncClient, app: FastAPI):
    door = DOORS[0]
    for user in (ALICE, BOB):
        for n in range(2):
            await door.create(client, user, {"title": f"t{n}"}, key=f"key-{n}")
    db = app.state.services.db
    async with db.transaction() as connection:  # one key of each user expired a second ago
        await connection.execute(
            text("UPDATE idempotency_keys SET expires_at = :past WHERE key = 'key-0'"),
            {"past": datetime.now(UTC) - timedelta(seconds=1)})
    assert await purge_expired_keys(db) == 2
    assert await purge_expired_keys(db) == 0
    async with db.read() as connection:
        kept = (await connection.execute(text("SELECT task FROM idempotency_keys"))).scalars()
        assert sorted(json.loads(task)["title"] for task in kept) == ["t1", "t1"]
