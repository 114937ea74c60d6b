"""Cheap polling: tags on tasks and lists, 304 while nothing changed, never after a change."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.doors import b_url, c_url
from tests.graphql_support import count_statements, data
from tests.support import ALICE, BOB, auth, make_task, tasks_url

pytestmark = pytest.mark.anyio

LISTS = {"a": tasks_url(ALICE), "b": b_url(ALICE), "c": c_url()}
IDENTITY = {"Accept-Encoding": "identity"}


async def poll(client: httpx.AsyncClient, url: str, tag: str | None = None, *,
               user: str = ALICE, **headers: str) -> httpx.Response:
    conditional = {"If-None-Match": tag} if tag is not None else {}
    return await client.get(url, headers={**auth(user), **IDENTITY, **conditional, **headers})


async def tags_of_lists(client: httpx.AsyncClient) -> dict[str, str]:
    tags = {}
    for name, url in LISTS.items():
        response = await poll(client, url)
        assert response.status_code == 200, response.text
        tags[name] = response.headers["etag"]
    return tags


def assert_not_modified(response: httpx.Response, tag: str) -> None:
    assert response.status_code == 304, response.text
    assert response.content == b""
    assert response.headers["etag"] == tag
    assert response.headers["cache-control"] == "private, no-cache"
    assert "content-encoding" not in response.headers


# ---------------------------------------------------------------- lists


async def test_a_list_polled_with_its_tag_is_304_and_costs_one_primary_key_lookup(
        client: httpx.AsyncClient, app: FastAPI):
    await make_task(client, ALICE)
    for url in LISTS.values():
        first = await poll(client, url)
        assert first.headers["cache-control"] == "private, no-cache"
        tag = first.headers["etag"]
        with count_statements(app) as statements:
            again = await poll(client, url, tag)
        assert_not_modified(again, tag)
        assert len(statements) == 1, statements
        assert "FROM users" in statements[0] and "FROM tasks" not in statements[0]


WriteStep = Callable[[httpx.AsyncClient, str], Awaitable[Any]]
GQL_TASK = "{ id version }"


async def _a_create(client: httpx.AsyncClient, _: str) -> None:
    await make_task(client, ALICE, title="via A")


async def _b_update(client: httpx.AsyncClient, task_id: str) -> None:
    response = await client.put(b_url(ALICE, task_id), json={"title": "via B"},
                                headers=auth(ALICE))
    assert response.status_code == 200


async def _c_complete(client: httpx.AsyncClient, task_id: str) -> None:
    response = await client.patch(c_url(task_id, "/complete"), headers=auth(ALICE))
    assert response.status_code == 200


async def _graphql_toggle(client: httpx.AsyncClient, task_id: str) -> None:
    await data(client, ALICE, f'mutation {{ toggleTaskCompleted(id: "{task_id}") {GQL_TASK} }}')


async def _graphql_create(client: httpx.AsyncClient, _: str) -> None:
    await data(client, ALICE, f'mutation {{ createTask(input: {{title: "via GraphQL"}}) '
                              f'{GQL_TASK} }}')


async def _a_update_with_if_match(client: httpx.AsyncClient, task_id: str) -> None:
    current = await client.get(tasks_url(ALICE, task_id), headers=auth(ALICE))
    response = await client.put(tasks_url(ALICE, task_id), json={"priority": "high"},
                                headers={**auth(ALICE), "If-Match": current.headers["etag"]})
    assert response.status_code == 200


async def _c_delete(client: httpx.AsyncClient, task_id: str) -> None:
    assert (await client.delete(c_url(task_id), headers=auth(ALICE))).status_code == 204


async def _graphql_delete(client: httpx.AsyncClient, task_id: str) -> None:
    await data(client, ALICE, f'mutation {{ deleteTask(id: "{task_id}") }}')


async def _b_create(client: httpx.AsyncClient, _: str) -> None:
    response = await client.post(b_url(ALICE), json={"title": "via B"}, headers=auth(ALICE))
    assert response.status_code == 201


WRITES: list[tuple[str, WriteStep]] = [
    ("A create", _a_create), ("B update", _b_update), ("C complete", _c_complete),
    ("GraphQL toggle", _graphql_toggle), ("GraphQL create", _graphql_create),
    ("A update with If-Match", _a_update_with_if_match), ("B create", _b_create),
    ("C delete", _c_delete), ("GraphQL delete", _graphql_delete),
]


async def test_every_write_through_every_door_turns_every_list_200_again(
        client: httpx.AsyncClient):
    seen: set[str] = set()
    for what, write in WRITES:
        victim = (await make_task(client, ALICE, title=f"before {what}"))["id"]
        before = await tags_of_lists(client)
        for name, url in LISTS.items():
            assert_not_modified(await poll(client, url, before[name]), before[name])
        await write(client, victim)
        for name, url in LISTS.items():
            after = await poll(client, url, before[name])
            assert after.status_code == 200, (what, name)
            assert after.headers["etag"] != before[name]
            assert after.content == (await poll(client, url)).content
        assert not seen & set(before.values()), what  # a tag never comes back
        seen |= set(before.values())


async def test_a_tag_validates_only_its_own_url(client: httpx.AsyncClient):
    await make_task(client, ALICE)
    urls = [tasks_url(ALICE), tasks_url(ALICE) + "?status=pending", tasks_url(ALICE) + "?limit=5",
            c_url(), c_url() + "?status=pending", b_url(ALICE)]
    tags = {url: (await poll(client, url)).headers["etag"] for url in urls}
    assert len(set(tags.values())) == len(urls)
    for tag in tags.values():  # 128 bits of digest: no two listings share a tag by chance
        assert re.fullmatch(r'"[0-9a-f]{32}"', tag), tag
    for url in urls:
        for other, tag in tags.items():
            expected = 304 if other == url else 200
            assert (await poll(client, url, tag)).status_code == expected, (url, other)


async def test_another_users_writes_leave_my_tag_alone_and_my_tag_is_not_theirs(
        client: httpx.AsyncClient):
    await make_task(client, ALICE)
    tag = (await poll(client, c_url())).headers["etag"]
    await make_task(client, BOB)
    assert (await poll(client, c_url(), tag)).status_code == 304
    bobs = await poll(client, c_url(), tag, user=BOB)
    assert bobs.status_code == 200
    assert [t["user_id"] for t in bobs.json()] == [BOB]


async def test_list_tags_never_repeat_after_erasure_and_registering_again(
        client: httpx.AsyncClient):
    before: list[str] = []
    for _ in range(3):
        await make_task(client, ALICE, title="same")
        before.append((await poll(client, c_url())).headers["etag"])
    assert (await client.delete(f"/api/{ALICE}", headers=auth(ALICE))).status_code == 204
    after: list[str] = []
    for _ in range(3):
        await make_task(client, ALICE, title="same")
        response = await poll(client, c_url(), before[len(after)])
        assert response.status_code == 200
        after.append(response.headers["etag"])
    assert not set(before) & set(after)


async def test_if_none_match_star_and_weak_tags_match_a_list(client: httpx.AsyncClient):
    await make_task(client, ALICE)
    tag = (await poll(client, c_url())).headers["etag"]
    assert_not_modified(await poll(client, c_url(), "*"), tag)
    assert_not_modified(await poll(client, c_url(), f'"nope", W/{tag}'), tag)
    assert (await poll(client, c_url(), '"nope"')).status_code == 200


# ---------------------------------------------------------------- one task


@pytest.mark.parametrize("url", [lambda t: tasks_url(ALICE, t), lambda t: b_url(ALICE, t),
                                 lambda t: c_url(t)], ids=["a", "b", "c"])
async def test_a_task_read_with_its_version_is_304_until_it_changes(
        client: httpx.AsyncClient, url: Callable[[str], str]):
    task = await make_task(client, ALICE)
    first = await poll(client, url(task["id"]))
    assert (first.headers["etag"], first.headers["cache-control"]) == ('"1"', "private, no-cache")
    assert_not_modified(await poll(client, url(task["id"]), '"1"'), '"1"')
    assert_not_modified(await poll(client, url(task["id"]), 'W/"1"'), '"1"')
    await client.patch(c_url(task["id"], "/complete"), headers=auth(ALICE))
    changed = await poll(client, url(task["id"]), '"1"')
    assert (changed.status_code, changed.headers["etag"]) == (200, '"2"')


async def test_a_missing_task_is_404_whatever_if_none_match_says(client: httpx.AsyncClient):
    task = await make_task(client, BOB)
    response = await poll(client, tasks_url(ALICE, task["id"]), "*")
    assert response.status_code == 404


# ---------------------------------------------------------------- compression


async def test_answers_over_1_kib_are_compressed_with_the_coding_in_their_tag(
        client: httpx.AsyncClient):
    for n in range(8):
        await make_task(client, ALICE, title=f"task {n}", description="d" * 100)
    plain = await poll(client, c_url())
    assert len(plain.content) > 1024 and "content-encoding" not in plain.headers
    tag = plain.headers["etag"]
    for coding, accept in (("gzip", "gzip"), ("br", "gzip, br"), ("gzip", "br;q=0, gzip")):
        response = await poll(client, c_url(), **{"Accept-Encoding": accept})
        assert response.headers["content-encoding"] == coding
        # (Origin too: development allows the Next.js dev server's origin)
        assert response.headers["vary"] == "Origin, Accept-Encoding"
        assert response.content == plain.content  # httpx decodes it
        coded = f'{tag[:-1]}-{coding}"'
        assert response.headers["etag"] == coded
        not_modified = await poll(client, c_url(), coded, **{"Accept-Encoding": accept})
        assert_not_modified(not_modified, coded)  # the tag as the client holds it


async def test_small_answers_are_never_compressed(client: httpx.AsyncClient):
    task = await make_task(client, ALICE)
    response = await client.get(tasks_url(ALICE, task["id"]),
                                headers={**auth(ALICE), "Accept-Encoding": "gzip, br"})
    assert "content-encoding" not in response.headers
    assert response.headers["etag"] == '"1"'


async def test_if_match_accepts_the_tag_of_a_compressed_answer(client: httpx.AsyncClient):
    task = await make_task(client, ALICE, description="long " * 300)
    read = await client.get(tasks_url(ALICE, task["id"]),
                            headers={**auth(ALICE), "Accept-Encoding": "gzip"})
    assert read.headers["etag"] == '"1-gzip"'
    stale = await client.put(tasks_url(ALICE, task["id"]), json={"title": "x"},
                             headers={**auth(ALICE), "If-Match": 'W/"1"'})
    assert stale.status_code == 412  # If-Match compares strongly: a weak tag never matches
    updated = await client.put(tasks_url(ALICE, task["id"]), json={"title": "x"},
                               headers={**auth(ALICE), "If-Match": read.headers["etag"]})
    assert updated.status_code == 200
    again = await client.put(tasks_url(ALICE, task["id"]), json={"title": "y"},
                             headers={**auth(ALICE), "If-Match": '"1-br"'})
    assert again.status_code == 412
