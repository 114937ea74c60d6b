"""A user holds at most MAX_TASKS_PER_USER tasks: one more is 409 on every door, race-free."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from app.factory import create_app
from app.settings import Settings
from tests.doors import assert_envelope_error, b_url, c_url
from tests.graphql_support import gql
from tests.support import ALICE, BOB, assert_error, auth, empty_tables, make_task, tasks_url

pytestmark = pytest.mark.anyio

LIMIT = 3


@pytest.fixture
async def limited(settings: Settings, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app that lets each user hold ``LIMIT`` tasks."""
    app = create_app(settings.model_copy(update={"max_tasks_per_user": LIMIT}))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://testserver") as http:
            yield http
    finally:
        await app.state.services.db.dispose()
        await empty_tables(database_url)


async def count(client: httpx.AsyncClient, user: str = ALICE) -> int:
    response = await client.get(c_url(), headers=auth(user))
    return int(response.headers["x-total-count"])


async def test_creating_one_more_than_the_limit_is_409_on_every_door(
        limited: httpx.AsyncClient):
    for n in range(LIMIT):
        await make_task(limited, ALICE, title=f"t{n}")
    body = assert_error(await limited.post(tasks_url(ALICE), json={"title": "one more"},
                                           headers=auth(ALICE)), 409, "TASK_LIMIT_REACHED")
    assert body["detail"] == (f"You already have the maximum of {LIMIT} tasks; "
                              "delete some to make room")
    assert_error(await limited.post(c_url(), json={"title": "one more"}, headers=auth(ALICE)),
                 409, "TASK_LIMIT_REACHED")
    assert_envelope_error(await limited.post(b_url(ALICE), json={"title": "one more"},
                                             headers=auth(ALICE)), 409, "TASK_LIMIT_REACHED")
    response = await gql(limited, ALICE, 'mutation { createTask(input: {title: "one more"}) '
                                         '{ id } }')
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "TASK_LIMIT_REACHED"}
    assert await count(limited) == LIMIT


async def test_the_limit_is_per_user_and_a_delete_makes_room(limited: httpx.AsyncClient):
    ids = [(await make_task(limited, ALICE))["id"] for _ in range(LIMIT)]
    await make_task(limited, BOB)  # Bob has his own allowance
    assert (await limited.delete(tasks_url(ALICE, ids[0]), headers=auth(ALICE))).status_code == 204
    await make_task(limited, ALICE)
    assert (await count(limited), await count(limited, BOB)) == (LIMIT, 1)


async def test_a_retry_of_the_create_that_reached_the_limit_is_replayed_not_refused(
        limited: httpx.AsyncClient):
    for _ in range(LIMIT - 1):
        await make_task(limited, ALICE)
    headers = {**auth(ALICE), "Idempotency-Key": "last"}
    first = await limited.post(tasks_url(ALICE), json={"title": "last"}, headers=headers)
    retry = await limited.post(tasks_url(ALICE), json={"title": "last"}, headers=headers)
    assert (first.status_code, retry.status_code, retry.content) == (201, 201, first.content)


async def test_concurrent_creates_never_pass_the_limit(limited: httpx.AsyncClient):
    responses = await asyncio.gather(*[
        limited.post(url, json={"title": f"racer {n}"}, headers=auth(ALICE))
        for n, url in enumerate([tasks_url(ALICE), c_url(), b_url(ALICE)] * 5)])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * LIMIT + [409] * (15 - LIMIT), [r.text for r in responses]
    assert await count(limited) == LIMIT


def test_max_tasks_per_user_defaults_to_10000_and_is_read_from_the_environment(
        monkeypatch: pytest.MonkeyPatch):
    assert Settings(_env_file=None).max_tasks_per_user == 10_000  # type: ignore[call-arg]
    monkeypatch.setenv("MAX_TASKS_PER_USER", "25")
    assert Settings(_env_file=None).max_tasks_per_user == 25  # type: ignore[call-arg]
