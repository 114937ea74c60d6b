"""Concurrent writers: no lost update, no lost version, no resurrection, never a 500."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.support import ALICE, auth, make_task, tasks_url

pytestmark = pytest.mark.anyio


async def test_50_puts_with_the_same_if_match_let_exactly_one_win(client: httpx.AsyncClient):
    task = await make_task(client, ALICE)
    headers = {**auth(ALICE), "If-Match": '"1"'}
    responses = await asyncio.gather(*[
        client.put(tasks_url(ALICE, task["id"]), json={"title": f"writer {i}"}, headers=headers)
        for i in range(50)
    ])
    assert sorted(r.status_code for r in responses) == [200] + [412] * 49
    winner = next(r.json() for r in responses if r.status_code == 200)
    final = (await client.get(tasks_url(ALICE, task["id"]), headers=auth(ALICE))).json()
    assert final == winner
    assert final["version"] == 2


async def test_100_concurrent_toggles_add_exactly_100_versions(client: httpx.AsyncClient):
    task = await make_task(client, ALICE)
    url = tasks_url(ALICE, task["id"], "/complete")
    responses = await asyncio.gather(*[client.patch(url, headers=auth(ALICE)) for _ in range(100)])
    assert {r.status_code for r in responses} == {200}
    assert sorted(r.json()["version"] for r in responses) == list(range(2, 102))
    final = (await client.get(tasks_url(ALICE, task["id"]), headers=auth(ALICE))).json()
    assert final["version"] == 101
    assert (final["completed"], final["status"], final["completed_at"]) == (False, "pending", None)


async def test_20_users_creating_at_once_each_see_exactly_their_own(client: httpx.AsyncClient):
    users = [f"user-{n:02d}" for n in range(20)]

    async def create_three(user: str) -> set[str]:
        return {(await make_task(client, user, title=f"{user}-{i}"))["id"] for i in range(3)}

    created = await asyncio.gather(*[create_three(user) for user in users])
    for user, ids in zip(users, created, strict=True):
        listed = (await client.get(tasks_url(user), headers=auth(user))).json()
        assert {t["id"] for t in listed} == ids
        assert {t["user_id"] for t in listed} == {user}


async def test_delete_racing_updates_never_fails_or_resurrects(client: httpx.AsyncClient):
    for _ in range(5):
        task = await make_task(client, ALICE)
        url = tasks_url(ALICE, task["id"])
        updates = [client.put(url, json={"title": f"u{i}"}, headers=auth(ALICE)) for i in range(5)]
        toggles = [client.patch(url + "/complete", headers=auth(ALICE)) for _ in range(5)]
        responses = await asyncio.gather(*updates, client.delete(url, headers=auth(ALICE)),
                                         *toggles)
        assert {r.status_code for r in responses} <= {200, 204, 404}
        assert [r.status_code for r in responses].count(204) == 1
        assert (await client.get(url, headers=auth(ALICE))).status_code == 404
        listed = (await client.get(tasks_url(ALICE), headers=auth(ALICE))).json()
        assert task["id"] not in {t["id"] for t in listed}
