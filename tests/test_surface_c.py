"""Surface C (/api/tasks, user from the token, seed 001) through HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.doors import SURFACE_C, c_url, make
from tests.support import ALICE, BOB, assert_error, auth, make_task

pytestmark = pytest.mark.anyio

TASK_FIELDS = {"id", "user_id", "title", "description", "completed", "completed_at", "status",
               "priority", "due_date", "created_at", "updated_at", "version"}


async def _titles(client: httpx.AsyncClient, query: str) -> list[str]:
    return (await SURFACE_C.listed(client, ALICE, query)).titles


# ---------------------------------------------------------------- the six operations


async def test_create_task_returns_201_with_location_etag_and_defaults(client: httpx.AsyncClient):
    response = await client.post(c_url(), json={"title": "  Buy milk "}, headers=auth(ALICE))
    assert response.status_code == 201
    task = response.json()
    assert set(task) == TASK_FIELDS
    assert response.headers["location"] == f"/api/tasks/{task['id']}"
    assert response.headers["etag"] == '"1"'
    assert task | {"id": None, "created_at": None, "updated_at": None} == {
        "id": None, "user_id": ALICE, "title": "Buy milk", "description": None,
        "completed": False, "completed_at": None, "status": "pending", "priority": "medium",
        "due_date": None, "created_at": None, "updated_at": None, "version": 1,
    }


async def test_create_task_takes_the_owner_from_the_token_never_the_body(client):
    task = await make(SURFACE_C, client, ALICE, title="Mine", user_id=BOB, id=str(uuid.uuid4()),
                             version=7)
    assert (task["user_id"], task["version"]) == (ALICE, 1)
    assert (await SURFACE_C.listed(client, BOB)).ok_tasks() == []


async def test_get_task_returns_it_with_etag(client: httpx.AsyncClient):
    created = await make(SURFACE_C, client, ALICE, description="d", priority="high")
    response = await client.get(c_url(created["id"]), headers=auth(ALICE))
    assert (response.status_code, response.json()) == (200, created)
    assert response.headers["etag"] == '"1"'


async def test_list_tasks_returns_only_the_callers_tasks_newest_first(client: httpx.AsyncClient):
    first = await make(SURFACE_C, client, ALICE, title="first")
    second = await make(SURFACE_C, client, ALICE, title="second")
    await make(SURFACE_C, client, BOB, title="bob's")
    listed = await SURFACE_C.listed(client, ALICE)
    assert listed.ids == [second["id"], first["id"]]
    assert listed.total == 2
    assert "link" not in listed.response.headers


async def test_update_task_changes_only_sent_fields(client: httpx.AsyncClient):
    created = await make(SURFACE_C, client, ALICE, title="Old", description="keep", priority="low")
    response = await client.put(c_url(created["id"]), json={"title": "New"}, headers=auth(ALICE))
    assert response.status_code == 200
    task = response.json()
    assert (task["title"], task["description"], task["priority"]) == ("New", "keep", "low")
    assert task["version"] == 2
    assert response.headers["etag"] == '"2"'


async def test_delete_task_returns_204_and_it_is_gone(client: httpx.AsyncClient):
    created = await make(SURFACE_C, client, ALICE)
    response = await client.delete(c_url(created["id"]), headers=auth(ALICE))
    assert (response.status_code, response.content) == (204, b"")
    assert_error(await client.get(c_url(created["id"]), headers=auth(ALICE)),
                 404, "TASK_NOT_FOUND")


@pytest.mark.parametrize("kwargs", [{}, {"content": b""}, {"json": {}}])
async def test_complete_without_state_toggles(client: httpx.AsyncClient, kwargs):
    created = await make(SURFACE_C, client, ALICE)
    url = c_url(created["id"], "/complete")
    done = (await client.patch(url, headers=auth(ALICE), **kwargs)).json()
    assert (done["completed"], done["status"], done["version"]) == (True, "completed", 2)
    assert done["completed_at"] is not None
    reopened = (await client.patch(url, headers=auth(ALICE), **kwargs)).json()
    assert (reopened["completed"], reopened["status"], reopened["completed_at"]) == (
        False, "pending", None)


async def test_complete_with_state_is_idempotent(client: httpx.AsyncClient):
    created = await make(SURFACE_C, client, ALICE)
    url = c_url(created["id"], "/complete")
    first = await client.patch(url, json={"completed": True}, headers=auth(ALICE))
    second = await client.patch(url, json={"completed": True}, headers=auth(ALICE))
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert second.headers["etag"] == '"2"'


# ---------------------------------------------------------------- validation is 422


@pytest.mark.parametrize(("body", "field"), [
    ({}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 256}, "title"),
    ({"title": None}, "title"),
    ({"title": "nul\u0000"}, "title"),
    ({"title": "ok", "description": "x" * 10_001}, "description"),
    ({"title": "ok", "completed": "yes"}, "completed"),
    ({"title": "ok", "status": "done"}, "status"),
    ({"title": "ok", "priority": "urgent"}, "priority"),
    ({"title": "ok", "due_date": 1700000000}, "due_date"),
    ({"title": "ok", "completed": True, "status": "pending"}, "completed"),
])
async def test_create_task_validation_errors_are_422(client: httpx.AsyncClient, body, field):
    response = await client.post(c_url(), json=body, headers=auth(ALICE))
    body = assert_error(response, 422, "VALIDATION_ERROR")
    assert [e["field"] for e in body["errors"]] == [field]


async def test_title_of_255_characters_is_accepted(client: httpx.AsyncClient):
    task = await make(SURFACE_C, client, ALICE, title="t" * 255)
    assert len(task["title"]) == 255


@pytest.mark.parametrize("content", [b"{not json", b"[1]", b"\xff\xfe{}", b"null", b""])
async def test_malformed_body_is_422(client: httpx.AsyncClient, content):
    response = await client.post(c_url(), content=content,
                                 headers={**auth(ALICE), "Content-Type": "application/json"})
    assert assert_error(response, 422, "VALIDATION_ERROR")["errors"][0]["field"] == "body"


async def test_update_and_complete_validation_errors_are_422(client: httpx.AsyncClient):
    task = await make(SURFACE_C, client, ALICE)
    for response in (
        await client.put(c_url(task["id"]), json={}, headers=auth(ALICE)),
        await client.put(c_url(task["id"]), json={"priority": None}, headers=auth(ALICE)),
        await client.patch(c_url(task["id"], "/complete"), json={"completed": 1},
                           headers=auth(ALICE)),
    ):
        assert_error(response, 422, "VALIDATION_ERROR")
    assert (await client.get(c_url(task["id"]), headers=auth(ALICE))).json() == task


async def test_body_over_one_mebibyte_is_413(client: httpx.AsyncClient):
    body = b'{"title": "big", "description": "' + b"x" * (1024 * 1024) + b'"}'
    assert_error(await client.post(c_url(), content=body, headers=auth(ALICE)),
                 413, "PAYLOAD_TOO_LARGE")


# ---------------------------------------------------------------- isolation
# Status precedence, isolation, stale versions and concurrent toggles on every door:
# tests/test_every_door.py.


async def test_surfaces_a_and_c_see_the_same_tasks(client: httpx.AsyncClient):
    through_a = await make_task(client, ALICE, title="from A")
    through_c = await make(SURFACE_C, client, ALICE, title="from C")
    assert (await SURFACE_C.listed(client, ALICE)).ok_tasks() == [through_c, through_a]


# ---------------------------------------------------------------- listing, seed 001 spellings


async def test_status_filter_uses_seed_001_spellings(client: httpx.AsyncClient):
    await make(SURFACE_C, client, ALICE, title="p")
    await make(SURFACE_C, client, ALICE, title="i", status="in_progress")
    await make(SURFACE_C, client, ALICE, title="c", completed=True)
    assert sorted(await _titles(client, "?status=all")) == ["c", "i", "p"]
    assert await _titles(client, "?status=pending") == ["p"]
    assert await _titles(client, "?status=completed") == ["c"]
    assert await _titles(client, "?status=in_progress") == ["i"]


async def test_sort_uses_seed_001_spellings(client: httpx.AsyncClient):
    await make(SURFACE_C, client, ALICE, title="b", due_date="2030-02-01T00:00:00Z")
    await make(SURFACE_C, client, ALICE, title="c")
    await make(SURFACE_C, client, ALICE, title="a", due_date="2030-01-01T00:00:00Z")
    assert await _titles(client, "?sort=created") == ["a", "c", "b"]
    assert await _titles(client, "?sort=created&order=asc") == ["b", "c", "a"]
    assert await _titles(client, "?sort=title&order=asc") == ["a", "b", "c"]
    assert await _titles(client, "?sort=due_date&order=asc") == ["a", "b", "c"]


async def test_page_limit_and_search(client: httpx.AsyncClient):
    for i in range(5):
        await make(SURFACE_C, client, ALICE, title=f"task {i}",
                          description="Groceries" if i % 2 else "")
    first = await SURFACE_C.listed(client, ALICE, "?page=1&limit=2")
    assert first.titles == ["task 4", "task 3"]
    assert first.total == 5
    assert first.response.headers["link"] == (
        '<http://testserver/api/tasks?limit=2&page=2>; rel="next", '
        '<http://testserver/api/tasks?limit=2&page=3>; rel="last"')
    last = await SURFACE_C.listed(client, ALICE, "?page=3&limit=2")
    assert last.titles == ["task 0"]
    assert last.response.headers["link"] == (
        '<http://testserver/api/tasks?limit=2&page=1>; rel="first", '
        '<http://testserver/api/tasks?limit=2&page=2>; rel="prev"')
    assert await _titles(client, "?search=GROCER") == ["task 3", "task 1"]


async def test_pagination_never_overlaps_or_skips(client: httpx.AsyncClient):
    ids = {(await make(SURFACE_C, client, ALICE, title="same"))["id"] for _ in range(5)}
    for sort in ("created", "title", "due_date", "priority"):
        seen = [task_id for page in (1, 2, 3) for task_id in
                (await SURFACE_C.listed(client, ALICE, f"?sort={sort}&page={page}&limit=2")).ids]
        assert sorted(seen) == sorted(ids), sort


@pytest.mark.parametrize("query", [
    "?status=done", "?sort=colour", "?order=up", "?limit=0", "?limit=1001", "?page=0",
    "?offset=-1", "?page=1&offset=0", "?priority=urgent", "?search=a%00b",
])
async def test_invalid_list_parameters_are_422(client: httpx.AsyncClient, query):
    response = await client.get(c_url() + query, headers=auth(ALICE))
    assert_error(response, 422, "VALIDATION_ERROR")


async def test_unknown_list_parameters_are_ignored(client: httpx.AsyncClient):
    await make(SURFACE_C, client, ALICE)
    assert len((await SURFACE_C.listed(client, ALICE, "?foo=bar&_t=1")).ok_tasks()) == 1


# ---------------------------------------------------------------- paths


async def test_trailing_slashes_are_accepted_without_redirect(client: httpx.AsyncClient):
    created = await client.post(c_url() + "/", json={"title": "slash"}, headers=auth(ALICE))
    assert created.status_code == 201
    assert created.headers["location"] == f"/api/tasks/{created.json()['id']}"
    task_id = created.json()["id"]
    for method, url in (("GET", c_url() + "/"), ("GET", c_url(task_id) + "/"),
                        ("PATCH", c_url(task_id, "/complete/"))):
        assert (await client.request(method, url, headers=auth(ALICE))).status_code == 200


async def test_surface_c_paths_win_over_surface_a_user_named_tasks(client: httpx.AsyncClient):
    response = await client.get("/api/tasks/tasks", headers=auth("tasks"))
    assert_error(response, 404, "TASK_NOT_FOUND")  # C's "read task 'tasks'", not A's list


async def test_unsupported_method_is_405_in_surface_c_format(client: httpx.AsyncClient):
    response = await client.post(c_url(str(uuid.uuid4())), headers=auth(ALICE))
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "DELETE, GET, HEAD, PUT"  # every route of the path
    response = await client.delete(c_url(), headers=auth(ALICE))
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET, HEAD, POST"
