"""Surface B (/api/v1/{user_id}/tasks, seed 004 envelopes) through HTTP, on both databases."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.doors import SURFACE_B, assert_envelope_error, b_url, make
from tests.support import ALICE, BOB, auth, make_task

pytestmark = pytest.mark.anyio

TASK_FIELDS = {"id", "user_id", "title", "description", "completed", "completed_at", "status",
               "priority", "due_date", "created_at", "updated_at", "version"}


def _ok(response: httpx.Response, status: int, message: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"success", "data", "message"}
    assert (body["success"], body["message"]) == (True, message)
    return body["data"]


async def _data(client: httpx.AsyncClient, query: str = "") -> dict:
    """The ``data`` of one page of Alice's list: ``{"tasks", "pagination"}``."""
    listed = await SURFACE_B.listed(client, ALICE, query)
    data: dict = listed.response.json()["data"]
    return data


async def _titles(client: httpx.AsyncClient, query: str) -> list[str]:
    return (await SURFACE_B.listed(client, ALICE, query)).titles


# ---------------------------------------------------------------- the six operations


async def test_create_task_returns_201_envelope_with_defaults(client: httpx.AsyncClient):
    response = await client.post(b_url(ALICE), json={"title": " Buy milk ",
                                                     "description": "2 l"}, headers=auth(ALICE))
    task = _ok(response, 201, "Task created successfully")["task"]
    assert set(task) == TASK_FIELDS
    assert task | {"id": None, "created_at": None, "updated_at": None} == {
        "id": None, "user_id": ALICE, "title": "Buy milk", "description": "2 l",
        "completed": False, "completed_at": None, "status": "pending", "priority": "medium",
        "due_date": None, "created_at": None, "updated_at": None, "version": 1,
    }
    assert response.headers["location"] == f"/api/v1/{ALICE}/tasks/{task['id']}"
    assert response.headers["etag"] == '"1"'


async def test_create_task_with_seed_004_fields(client: httpx.AsyncClient):
    task = await make(SURFACE_B, client, ALICE, title="Report", status="in_progress",
                             priority="high")
    assert (task["status"], task["priority"], task["completed"]) == ("in_progress", "high", False)


async def test_get_task_returns_the_envelope(client: httpx.AsyncClient):
    created = await make(SURFACE_B, client, ALICE)
    response = await client.get(b_url(ALICE, created["id"]), headers=auth(ALICE))
    assert _ok(response, 200, "Task retrieved successfully") == {"task": created}
    assert response.headers["etag"] == '"1"'


async def test_list_tasks_returns_tasks_and_pagination(client: httpx.AsyncClient):
    first = await make(SURFACE_B, client, ALICE, title="first")
    second = await make(SURFACE_B, client, ALICE, title="second")
    await make(SURFACE_B, client, BOB, title="bob's")
    assert await _data(client) == {
        "tasks": [second, first],
        "pagination": {"total": 2, "limit": 20, "offset": 0, "has_more": False},
    }


async def test_list_tasks_empty(client: httpx.AsyncClient):
    assert await _data(client) == {
        "tasks": [], "pagination": {"total": 0, "limit": 20, "offset": 0, "has_more": False}}


async def test_update_task_changes_only_sent_fields(client: httpx.AsyncClient):
    created = await make(SURFACE_B, client, ALICE, title="Old", description="keep", priority="low")
    response = await client.put(b_url(ALICE, created["id"]), json={"title": "New"},
                                headers=auth(ALICE))
    task = _ok(response, 200, "Task updated successfully")["task"]
    assert (task["title"], task["description"], task["priority"]) == ("New", "keep", "low")
    assert task["version"] == 2
    assert response.headers["etag"] == '"2"'


async def test_update_task_status_moves_completed_with_it(client: httpx.AsyncClient):
    created = await make(SURFACE_B, client, ALICE)
    response = await client.put(b_url(ALICE, created["id"]), json={"status": "completed"},
                                headers=auth(ALICE))
    task = _ok(response, 200, "Task updated successfully")["task"]
    assert (task["status"], task["completed"]) == ("completed", True)
    assert task["completed_at"] is not None


async def test_delete_task_returns_200_with_empty_data(client: httpx.AsyncClient):
    created = await make(SURFACE_B, client, ALICE)
    response = await client.delete(b_url(ALICE, created["id"]), headers=auth(ALICE))
    assert _ok(response, 200, "Task deleted successfully") == {}
    again = await client.get(b_url(ALICE, created["id"]), headers=auth(ALICE))
    assert_envelope_error(again, 404, "TASK_NOT_FOUND")


@pytest.mark.parametrize("kwargs", [
    {}, {"content": b""}, {"json": {}}, {"json": {"completed": True}},
    {"json": {"completed": "nonsense"}}, {"content": b"{not json"},
])
async def test_complete_always_toggles_and_ignores_the_body(client: httpx.AsyncClient, kwargs):
    created = await make(SURFACE_B, client, ALICE)
    url = b_url(ALICE, created["id"], "/complete")
    response = await client.patch(url, headers=auth(ALICE), **kwargs)
    done = _ok(response, 200, "Task completion toggled successfully")["task"]
    assert (done["completed"], done["status"], done["version"]) == (True, "completed", 2)
    assert done["completed_at"] is not None
    reopened = (await client.patch(url, headers=auth(ALICE), **kwargs)).json()["data"]["task"]
    assert (reopened["completed"], reopened["status"], reopened["completed_at"]) == (
        False, "pending", None)


# ---------------------------------------------------------------- validation is 422


@pytest.mark.parametrize(("body", "field"), [
    ({}, "title"),
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"title": None}, "title"),
    ({"title": 5}, "title"),
    ({"title": "nul\u0000"}, "title"),
    ({"title": "ok", "description": "x" * 10_001}, "description"),
    ({"title": "ok", "status": "done"}, "status"),
    ({"title": "ok", "priority": "urgent"}, "priority"),
    ({"title": "ok", "completed": "yes"}, "completed"),
])
async def test_create_task_validation_errors_are_422(client: httpx.AsyncClient, body, field):
    response = await client.post(b_url(ALICE), json=body, headers=auth(ALICE))
    errors = assert_envelope_error(response, 422, "VALIDATION_ERROR")["details"]["errors"]
    assert [e["field"] for e in errors] == [field]
    assert all(e["message"] for e in errors)


async def test_title_limit_is_200_characters_after_trimming(client: httpx.AsyncClient):
    task = await make(SURFACE_B, client, ALICE, title="  " + "é" * 200 + "  ")
    assert task["title"] == "é" * 200
    response = await client.put(b_url(ALICE, task["id"]), json={"title": "x" * 201},
                                headers=auth(ALICE))
    errors = assert_envelope_error(response, 422, "VALIDATION_ERROR")["details"]["errors"]
    assert errors == [{"field": "title", "message": "must be at most 200 characters"}]


async def test_longer_titles_from_other_surfaces_are_read_and_kept(client: httpx.AsyncClient):
    long = await make_task(client, ALICE, title="y" * 255)
    response = await client.put(b_url(ALICE, long["id"]), json={"priority": "high"},
                                headers=auth(ALICE))
    assert _ok(response, 200, "Task updated successfully")["task"]["title"] == "y" * 255


@pytest.mark.parametrize("body", [{}, {"id": "x"}, {"title": None}, {"status": "done"}])
async def test_update_task_validation_errors_are_422(client: httpx.AsyncClient, body):
    created = await make(SURFACE_B, client, ALICE)
    response = await client.put(b_url(ALICE, created["id"]), json=body, headers=auth(ALICE))
    assert_envelope_error(response, 422, "VALIDATION_ERROR")


@pytest.mark.parametrize("content", [b"{not json", b"[1]", b"\xff\xfe{}", b"null", b""])
async def test_malformed_body_is_422(client: httpx.AsyncClient, content):
    response = await client.post(b_url(ALICE), content=content,
                                 headers={**auth(ALICE), "Content-Type": "application/json"})
    body = assert_envelope_error(response, 422, "VALIDATION_ERROR")
    assert body["details"]["errors"][0]["field"] == "body"


@pytest.mark.parametrize("task_id", ["not-a-uuid", "1", "' OR 1=1 --"])
async def test_malformed_task_id_is_422_on_every_operation(client: httpx.AsyncClient, task_id):
    for method, suffix in (("GET", ""), ("PUT", ""), ("DELETE", ""), ("PATCH", "/complete")):
        response = await client.request(method, b_url(ALICE, task_id, suffix),
                                        json={"title": "x"}, headers=auth(ALICE))
        body = assert_envelope_error(response, 422, "VALIDATION_ERROR")
        assert [e["field"] for e in body["details"]["errors"]] == ["task_id"]


async def test_body_over_one_mebibyte_is_413(client: httpx.AsyncClient):
    body = b'{"title": "big", "description": "' + b"x" * (1024 * 1024) + b'"}'
    response = await client.post(b_url(ALICE), content=body, headers=auth(ALICE))
    assert_envelope_error(response, 413, "PAYLOAD_TOO_LARGE")


# ---------------------------------------------------------------- listing
# Status precedence, isolation, stale versions and concurrent toggles on every door:
# tests/test_every_door.py.


async def test_limit_offset_and_has_more(client: httpx.AsyncClient):
    for i in range(5):
        await make(SURFACE_B, client, ALICE, title=f"t{i}")
    first = await _data(client, "?limit=2")
    assert [t["title"] for t in first["tasks"]] == ["t4", "t3"]
    assert first["pagination"] == {"total": 5, "limit": 2, "offset": 0, "has_more": True}
    last = await _data(client, "?limit=2&offset=4")
    assert [t["title"] for t in last["tasks"]] == ["t0"]
    assert last["pagination"] == {"total": 5, "limit": 2, "offset": 4, "has_more": False}
    beyond = await _data(client, "?offset=10")
    assert beyond == {"tasks": [], "pagination": {"total": 5, "limit": 20, "offset": 10,
                                                  "has_more": False}}


async def test_default_limit_is_20_and_maximum_100(client: httpx.AsyncClient):
    for i in range(21):
        await make(SURFACE_B, client, ALICE, title=f"t{i}")
    default = await _data(client)
    assert (len(default["tasks"]), default["pagination"]["has_more"]) == (20, True)
    everything = await _data(client, "?limit=100")
    assert (len(everything["tasks"]), everything["pagination"]["has_more"]) == (21, False)


async def test_sort_fields_and_order(client: httpx.AsyncClient):
    for title, priority in (("m", "medium"), ("h", "high"), ("l", "low")):
        await make(SURFACE_B, client, ALICE, title=title, priority=priority)
    assert await _titles(client, "") == ["l", "h", "m"]
    assert await _titles(client, "?sort=created_at&order=asc") == ["m", "h", "l"]
    assert await _titles(client, "?sort=priority&order=asc") == ["l", "m", "h"]
    assert await _titles(client, "?sort=priority") == ["h", "m", "l"]
    tasks = (await _data(client))["tasks"]
    await client.put(b_url(ALICE, tasks[-1]["id"]), json={"title": "m2"}, headers=auth(ALICE))
    assert (await _titles(client, "?sort=updated_at"))[0] == "m2"


async def test_pagination_with_ties_never_overlaps_or_skips(client: httpx.AsyncClient):
    ids = {(await make(SURFACE_B, client, ALICE, title="same"))["id"] for _ in range(5)}
    for sort in ("created_at", "updated_at", "priority"):
        for order in ("asc", "desc"):
            seen = [t["id"] for offset in (0, 2, 4) for t in
                    (await _data(client, f"?sort={sort}&order={order}&limit=2&offset={offset}"))
                    ["tasks"]]
            assert sorted(seen) == sorted(ids), (sort, order)


async def test_status_filter(client: httpx.AsyncClient):
    await make(SURFACE_B, client, ALICE, title="p")
    await make(SURFACE_B, client, ALICE, title="i", status="in_progress")
    await make(SURFACE_B, client, ALICE, title="c", status="completed")
    for status in ("pending", "in_progress", "completed"):
        listed = await _data(client, f"?status={status}")
        assert [t["status"] for t in listed["tasks"]] == [status]
        assert listed["pagination"]["total"] == 1


@pytest.mark.parametrize(("query", "field"), [
    ("?limit=0", "limit"), ("?limit=101", "limit"), ("?limit=abc", "limit"),
    ("?offset=-1", "offset"), ("?status=all", "status"), ("?status=done", "status"),
    ("?sort=title", "sort"), ("?sort=due_date", "sort"), ("?order=up", "order"),
])
async def test_invalid_list_parameters_are_422(client: httpx.AsyncClient, query, field):
    response = await client.get(b_url(ALICE) + query, headers=auth(ALICE))
    body = assert_envelope_error(response, 422, "VALIDATION_ERROR")
    assert [e["field"] for e in body["details"]["errors"]] == [field]


async def test_unknown_list_parameters_are_ignored(client: httpx.AsyncClient):
    await make(SURFACE_B, client, ALICE)
    assert len((await _data(client, "?page=3&foo=bar"))["tasks"]) == 1


# ---------------------------------------------------------------- paths and headers


async def test_trailing_slashes_are_accepted_without_redirect(client: httpx.AsyncClient):
    created = await client.post(b_url(ALICE) + "/", json={"title": "slash"}, headers=auth(ALICE))
    task_id = _ok(created, 201, "Task created successfully")["task"]["id"]
    for method, url in (("GET", b_url(ALICE) + "/"), ("GET", b_url(ALICE, task_id) + "/"),
                        ("PATCH", b_url(ALICE, task_id, "/complete/"))):
        assert (await client.request(method, url, headers=auth(ALICE))).status_code == 200


async def test_error_envelope_carries_the_request_id_sent(client: httpx.AsyncClient):
    response = await client.get(b_url(ALICE, str(uuid.uuid4())),
                                headers={**auth(ALICE), "X-Request-ID": "trace-42"})
    body = assert_envelope_error(response, 404, "TASK_NOT_FOUND")
    assert body["details"]["request_id"] == "trace-42"
    assert body["details"]["method"] == "GET"


async def test_unsupported_method_is_405_in_the_envelope(client: httpx.AsyncClient):
    response = await client.post(b_url(ALICE, str(uuid.uuid4())), headers=auth(ALICE))
    assert_envelope_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "DELETE, GET, HEAD, PUT"  # every route of the path (fuzzer)
