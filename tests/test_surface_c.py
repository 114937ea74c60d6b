"""Surface C (/api/tasks, user from the token, seed 001) through HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from tests.support import ALICE, BOB, CAROL, assert_error, auth, make_task, token
from tests.surfaces import c_make_task, c_url

pytestmark = pytest.mark.anyio

TASK_FIELDS = {"id", "user_id", "title", "description", "completed", "completed_at", "status",
               "priority", "due_date", "created_at", "updated_at", "version"}


async def _list(client: httpx.AsyncClient, query: str = "", user: str = ALICE) -> httpx.Response:
    response = await client.get(c_url() + query, headers=auth(user))
    assert response.status_code == 200, response.text
    return response


async def _titles(client: httpx.AsyncClient, query: str) -> list[str]:
    return [t["title"] for t in (await _list(client, query)).json()]


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
    task = await c_make_task(client, ALICE, title="Mine", user_id=BOB, id=str(uuid.uuid4()),
                             version=7)
    assert (task["user_id"], task["version"]) == (ALICE, 1)
    assert (await _list(client, user=BOB)).json() == []


async def test_get_task_returns_it_with_etag(client: httpx.AsyncClient):
    created = await c_make_task(client, ALICE, description="d", priority="high")
    response = await client.get(c_url(created["id"]), headers=auth(ALICE))
    assert (response.status_code, response.json()) == (200, created)
    assert response.headers["etag"] == '"1"'


async def test_list_tasks_returns_only_the_callers_tasks_newest_first(client: httpx.AsyncClient):
    first = await c_make_task(client, ALICE, title="first")
    second = await c_make_task(client, ALICE, title="second")
    await c_make_task(client, BOB, title="bob's")
    response = await _list(client)
    assert [t["id"] for t in response.json()] == [second["id"], first["id"]]
    assert response.headers["x-total-count"] == "2"
    assert "link" not in response.headers


async def test_update_task_changes_only_sent_fields(client: httpx.AsyncClient):
    created = await c_make_task(client, ALICE, title="Old", description="keep", priority="low")
    response = await client.put(c_url(created["id"]), json={"title": "New"}, headers=auth(ALICE))
    assert response.status_code == 200
    task = response.json()
    assert (task["title"], task["description"], task["priority"]) == ("New", "keep", "low")
    assert task["version"] == 2
    assert response.headers["etag"] == '"2"'


async def test_delete_task_returns_204_and_it_is_gone(client: httpx.AsyncClient):
    created = await c_make_task(client, ALICE)
    response = await client.delete(c_url(created["id"]), headers=auth(ALICE))
    assert (response.status_code, response.content) == (204, b"")
    assert_error(await client.get(c_url(created["id"]), headers=auth(ALICE)),
                 404, "TASK_NOT_FOUND")


@pytest.mark.parametrize("kwargs", [{}, {"content": b""}, {"json": {}}])
async def test_complete_without_state_toggles(client: httpx.AsyncClient, kwargs):
    created = await c_make_task(client, ALICE)
    url = c_url(created["id"], "/complete")
    done = (await client.patch(url, headers=auth(ALICE), **kwargs)).json()
    assert (done["completed"], done["status"], done["version"]) == (True, "completed", 2)
    assert done["completed_at"] is not None
    reopened = (await client.patch(url, headers=auth(ALICE), **kwargs)).json()
    assert (reopened["completed"], reopened["status"], reopened["completed_at"]) == (
        False, "pending", None)


async def test_complete_with_state_is_idempotent(client: httpx.AsyncClient):
    created = await c_make_task(client, ALICE)
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
    task = await c_make_task(client, ALICE, title="t" * 255)
    assert len(task["title"]) == 255


@pytest.mark.parametrize("content", [b"{not json", b"[1]", b"\xff\xfe{}", b"null", b""])
async def test_malformed_body_is_422(client: httpx.AsyncClient, content):
    response = await client.post(c_url(), content=content,
                                 headers={**auth(ALICE), "Content-Type": "application/json"})
    assert assert_error(response, 422, "VALIDATION_ERROR")["errors"][0]["field"] == "body"


async def test_update_and_complete_validation_errors_are_422(client: httpx.AsyncClient):
    task = await c_make_task(client, ALICE)
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


# ---------------------------------------------------------------- status precedence


async def test_missing_token_is_401_with_bare_challenge(client: httpx.AsyncClient):
    for method, url in (("GET", c_url()), ("POST", c_url()), ("GET", c_url(str(uuid.uuid4())))):
        response = await client.request(method, url)
        assert_error(response, 401, "UNAUTHENTICATED")
        assert response.headers["www-authenticate"] == "Bearer"


async def test_expired_token_is_401_token_expired(client: httpx.AsyncClient):
    headers = {"Authorization": f"Bearer {token(ALICE, ttl=-3600)}"}
    response = await client.get(c_url(), headers=headers)
    assert_error(response, 401, "TOKEN_EXPIRED")
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_401_comes_before_422(client: httpx.AsyncClient):
    bad = {"Authorization": "Bearer not-a-token"}
    for response in (
        await client.post(c_url(), content=b"{bad", headers=bad),
        await client.get(c_url() + "?limit=0", headers=bad),
    ):
        assert_error(response, 401, "UNAUTHENTICATED")


async def test_404_comes_before_422_and_412(client: httpx.AsyncClient):
    response = await client.put(c_url(str(uuid.uuid4())), content=b"{bad",
                                headers={**auth(ALICE), "If-Match": '"9"'})
    assert_error(response, 404, "TASK_NOT_FOUND")


async def test_422_comes_before_412(client: httpx.AsyncClient):
    task = await c_make_task(client, ALICE)
    response = await client.put(c_url(task["id"]), json={"title": ""},
                                headers={**auth(ALICE), "If-Match": '"9"'})
    assert_error(response, 422, "VALIDATION_ERROR")


@pytest.mark.parametrize("task_id", ["not-a-uuid", "1", "' OR 1=1 --"])
async def test_task_id_that_is_not_a_uuid_is_404(client: httpx.AsyncClient, task_id):
    for method, suffix in (("GET", ""), ("PUT", ""), ("DELETE", ""), ("PATCH", "/complete")):
        response = await client.request(method, c_url(task_id, suffix), json={"title": "x"},
                                        headers=auth(ALICE))
        assert_error(response, 404, "TASK_NOT_FOUND")


# ---------------------------------------------------------------- isolation


async def test_other_users_tasks_are_404_on_every_operation_and_unchanged(client):
    victim = await c_make_task(client, BOB, title="Bob's secret", description="private")
    await c_make_task(client, CAROL, title="Carol's")
    for intruder in (ALICE, CAROL):
        url = c_url(victim["id"])
        h = auth(intruder)
        for response in (
            await client.get(url, headers=h),
            await client.put(url, json={"title": "pwned"}, headers=h),
            await client.patch(url + "/complete", headers=h),
            await client.patch(url + "/complete", json={"completed": True}, headers=h),
            await client.delete(url, headers=h),
        ):
            body = assert_error(response, 404, "TASK_NOT_FOUND")
            assert "Bob" not in response.text
            assert body["detail"] == "Task not found"
        listed = (await _list(client, user=intruder)).json()
        assert victim["id"] not in {t["id"] for t in listed}
    assert (await client.get(c_url(victim["id"]), headers=auth(BOB))).json() == victim


async def test_surfaces_a_and_c_see_the_same_tasks(client: httpx.AsyncClient):
    through_a = await make_task(client, ALICE, title="from A")
    through_c = await c_make_task(client, ALICE, title="from C")
    listed = (await _list(client)).json()
    assert listed == [through_c, through_a]


# ---------------------------------------------------------------- optimistic concurrency


async def test_stale_if_match_is_412_and_changes_nothing(client: httpx.AsyncClient):
    task = await c_make_task(client, ALICE)
    url = c_url(task["id"])
    stale = {**auth(ALICE), "If-Match": '"7"'}
    for response in (
        await client.put(url, json={"title": "x"}, headers=stale),
        await client.patch(url + "/complete", headers=stale),
        await client.delete(url, headers=stale),
    ):
        assert_error(response, 412, "PRECONDITION_FAILED")
    assert (await client.get(url, headers=auth(ALICE))).json() == task
    fresh = await client.delete(url, headers={**auth(ALICE), "If-Match": '"1"'})
    assert fresh.status_code == 204


async def test_concurrent_toggles_never_lose_a_version(client: httpx.AsyncClient):
    task = await c_make_task(client, ALICE)
    url = c_url(task["id"], "/complete")
    responses = await asyncio.gather(*[client.patch(url, headers=auth(ALICE)) for _ in range(10)])
    assert {r.status_code for r in responses} == {200}
    final = (await client.get(c_url(task["id"]), headers=auth(ALICE))).json()
    assert (final["version"], final["completed"]) == (11, False)


# ---------------------------------------------------------------- listing, seed 001 spellings


async def test_status_filter_uses_seed_001_spellings(client: httpx.AsyncClient):
    await c_make_task(client, ALICE, title="p")
    await c_make_task(client, ALICE, title="i", status="in_progress")
    await c_make_task(client, ALICE, title="c", completed=True)
    assert sorted(await _titles(client, "?status=all")) == ["c", "i", "p"]
    assert await _titles(client, "?status=pending") == ["p"]
    assert await _titles(client, "?status=completed") == ["c"]
    assert await _titles(client, "?status=in_progress") == ["i"]


async def test_sort_uses_seed_001_spellings(client: httpx.AsyncClient):
    await c_make_task(client, ALICE, title="b", due_date="2030-02-01T00:00:00Z")
    await c_make_task(client, ALICE, title="c")
    await c_make_task(client, ALICE, title="a", due_date="2030-01-01T00:00:00Z")
    assert await _titles(client, "?sort=created") == ["a", "c", "b"]
    assert await _titles(client, "?sort=created&order=asc") == ["b", "c", "a"]
    assert await _titles(client, "?sort=title&order=asc") == ["a", "b", "c"]
    assert await _titles(client, "?sort=due_date&order=asc") == ["a", "b", "c"]


async def test_page_limit_and_search(client: httpx.AsyncClient):
    for i in range(5):
        await c_make_task(client, ALICE, title=f"task {i}",
                          description="Groceries" if i % 2 else "")
    first = await _list(client, "?page=1&limit=2")
    assert [t["title"] for t in first.json()] == ["task 4", "task 3"]
    assert first.headers["x-total-count"] == "5"
    assert first.headers["link"] == ('<http://testserver/api/tasks?limit=2&page=2>; rel="next", '
                                     '<http://testserver/api/tasks?limit=2&page=3>; rel="last"')
    last = await _list(client, "?page=3&limit=2")
    assert [t["title"] for t in last.json()] == ["task 0"]
    assert last.headers["link"] == ('<http://testserver/api/tasks?limit=2&page=1>; rel="first", '
                                    '<http://testserver/api/tasks?limit=2&page=2>; rel="prev"')
    assert await _titles(client, "?search=GROCER") == ["task 3", "task 1"]


async def test_pagination_never_overlaps_or_skips(client: httpx.AsyncClient):
    ids = {(await c_make_task(client, ALICE, title="same"))["id"] for _ in range(5)}
    for sort in ("created", "title", "due_date", "priority"):
        seen = [t["id"] for page in (1, 2, 3)
                for t in (await _list(client, f"?sort={sort}&page={page}&limit=2")).json()]
        assert sorted(seen) == sorted(ids), sort


@pytest.mark.parametrize("query", [
    "?status=done", "?sort=colour", "?order=up", "?limit=0", "?limit=1001", "?page=0",
    "?offset=-1", "?page=1&offset=0", "?priority=urgent", "?search=a%00b",
])
async def test_invalid_list_parameters_are_422(client: httpx.AsyncClient, query):
    response = await client.get(c_url() + query, headers=auth(ALICE))
    assert_error(response, 422, "VALIDATION_ERROR")


async def test_unknown_list_parameters_are_ignored(client: httpx.AsyncClient):
    await c_make_task(client, ALICE)
    assert len((await _list(client, "?foo=bar&_t=1")).json()) == 1


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
