"""Surface A (/api/{user_id}/tasks) through HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx
import pytest

from tests.doors import SURFACE_A
from tests.support import ALICE, BOB, assert_error, auth, make_task, tasks_url

pytestmark = pytest.mark.anyio

TASK_FIELDS = {"id", "user_id", "title", "description", "completed", "completed_at", "status",
               "priority", "due_date", "created_at", "updated_at", "version"}


def _parse_time(value: str) -> datetime:
    assert value.endswith("Z") or value[-6] in "+-", value
    return datetime.fromisoformat(value)


async def test_create_task_returns_201_with_location_etag_and_defaults(client: httpx.AsyncClient):
    response = await client.post(tasks_url(ALICE), json={"title": "  Buy milk  "},
                                 headers=auth(ALICE))
    assert response.status_code == 201
    task = response.json()
    assert set(task) == TASK_FIELDS
    assert response.headers["location"] == f"/api/{ALICE}/tasks/{task['id']}"
    assert response.headers["etag"] == '"1"'
    assert uuid.UUID(task["id"]).version == 4
    assert task | {"id": None, "created_at": None, "updated_at": None} == {
        "id": None, "user_id": ALICE, "title": "Buy milk", "description": None,
        "completed": False, "completed_at": None, "status": "pending", "priority": "medium",
        "due_date": None, "created_at": None, "updated_at": None, "version": 1,
    }
    assert _parse_time(task["created_at"]) == _parse_time(task["updated_at"])


async def test_create_task_with_every_field(client: httpx.AsyncClient):
    task = await make_task(client, ALICE, title="Report", description="Quarterly",
                           priority="high", status="in_progress",
                           due_date="2030-01-02T03:04:05+02:00")
    assert (task["priority"], task["status"], task["completed"]) == ("high", "in_progress", False)
    assert _parse_time(task["due_date"]) == datetime.fromisoformat("2030-01-02T01:04:05+00:00")


async def test_create_task_ignores_read_only_and_unknown_fields(client: httpx.AsyncClient):
    foreign_id = str(uuid.uuid4())
    task = await make_task(client, ALICE, title="Echo", id=foreign_id, user_id=BOB, version=99,
                           created_at="2000-01-01T00:00:00Z", completed_at="2000-01-01T00:00:00Z",
                           colour="blue")
    assert task["id"] != foreign_id
    assert (task["user_id"], task["version"], task["completed_at"]) == (ALICE, 1, None)
    assert not task["created_at"].startswith("2000")


async def test_get_task_returns_it_with_etag(client: httpx.AsyncClient):
    created = await make_task(client, ALICE)
    response = await client.get(tasks_url(ALICE, created["id"]), headers=auth(ALICE))
    assert response.status_code == 200
    assert response.json() == created
    assert response.headers["etag"] == '"1"'


async def test_list_tasks_returns_only_the_callers_tasks_newest_first(client: httpx.AsyncClient):
    first = await make_task(client, ALICE, title="first")
    second = await make_task(client, ALICE, title="second")
    await make_task(client, BOB, title="bob's")
    response = await client.get(tasks_url(ALICE), headers=auth(ALICE))
    assert response.status_code == 200
    assert [t["id"] for t in response.json()] == [second["id"], first["id"]]
    assert response.headers["x-total-count"] == "2"
    assert "link" not in response.headers


async def test_list_tasks_empty(client: httpx.AsyncClient):
    response = await client.get(tasks_url(ALICE), headers=auth(ALICE))
    assert (response.status_code, response.json()) == (200, [])
    assert response.headers["x-total-count"] == "0"


async def test_update_task_changes_only_sent_fields(client: httpx.AsyncClient):
    created = await make_task(client, ALICE, title="Old", description="keep me", priority="low")
    response = await client.put(tasks_url(ALICE, created["id"]), json={"title": "New"},
                                headers=auth(ALICE))
    assert response.status_code == 200
    task = response.json()
    assert (task["title"], task["description"], task["priority"]) == ("New", "keep me", "low")
    assert task["version"] == 2 and response.headers["etag"] == '"2"'
    assert _parse_time(task["updated_at"]) > _parse_time(created["updated_at"])
    assert task["created_at"] == created["created_at"]


async def test_update_task_null_clears_optional_fields(client: httpx.AsyncClient):
    created = await make_task(client, ALICE, description="x", due_date="2030-01-01T00:00:00Z")
    response = await client.put(tasks_url(ALICE, created["id"]),
                                json={"description": None, "due_date": None}, headers=auth(ALICE))
    assert (response.json()["description"], response.json()["due_date"]) == (None, None)


@pytest.mark.parametrize("field", ["title", "status", "priority", "completed"])
async def test_update_task_null_for_a_field_that_always_has_a_value_is_400(
        client: httpx.AsyncClient, field: str):
    created = await make_task(client, ALICE)
    response = await client.put(tasks_url(ALICE, created["id"]), json={field: None},
                                headers=auth(ALICE))
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": field, "message": "must not be null"}]


async def test_update_task_changing_nothing_says_what_may_be_sent(client: httpx.AsyncClient):
    created = await make_task(client, ALICE)
    response = await client.put(tasks_url(ALICE, created["id"]), json={"colour": "red"},
                                headers=auth(ALICE))
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "body", "message": (
        "nothing to update: send at least one of title, description, status, priority, "
        "due_date, completed")}]


async def test_update_task_whole_object_sent_back_is_accepted(client: httpx.AsyncClient):
    created = await make_task(client, ALICE, title="Round trip")
    response = await client.put(tasks_url(ALICE, created["id"]),
                                json={**created, "title": "Round trip 2"}, headers=auth(ALICE))
    assert response.status_code == 200
    assert response.json()["title"] == "Round trip 2"


async def test_update_task_with_same_values_changes_nothing(client: httpx.AsyncClient):
    created = await make_task(client, ALICE, title="Same")
    response = await client.put(tasks_url(ALICE, created["id"]), json={"title": "Same"},
                                headers=auth(ALICE))
    assert response.status_code == 200
    assert response.json() == created


@pytest.mark.parametrize("body", [{}, {"id": "x", "version": 3}, {"colour": "red"}])
async def test_update_task_without_updatable_fields_is_400(client: httpx.AsyncClient, body):
    created = await make_task(client, ALICE)
    response = await client.put(tasks_url(ALICE, created["id"]), json=body, headers=auth(ALICE))
    errors = assert_error(response, 400, "VALIDATION_ERROR")["errors"]
    assert errors[0]["field"] == "body"


async def test_delete_task_returns_204_and_it_is_gone(client: httpx.AsyncClient):
    created = await make_task(client, ALICE)
    response = await client.delete(tasks_url(ALICE, created["id"]), headers=auth(ALICE))
    assert (response.status_code, response.content) == (204, b"")
    again = await client.get(tasks_url(ALICE, created["id"]), headers=auth(ALICE))
    assert_error(again, 404, "TASK_NOT_FOUND")


# ---------------------------------------------------------------- completion and invariant


def assert_invariant(task: dict) -> None:
    assert task["completed"] == (task["status"] == "completed")
    assert (task["completed_at"] is not None) == task["completed"]


async def _complete(client: httpx.AsyncClient, task_id: str, **kwargs) -> httpx.Response:
    return await client.patch(tasks_url(ALICE, task_id, "/complete"), headers=auth(ALICE),
                              **kwargs)


@pytest.mark.parametrize("kwargs", [{}, {"content": b""}, {"json": {}}])
async def test_complete_without_state_toggles(client: httpx.AsyncClient, kwargs):
    created = await make_task(client, ALICE)
    done = (await _complete(client, created["id"], **kwargs)).json()
    assert (done["completed"], done["status"], done["version"]) == (True, "completed", 2)
    assert_invariant(done)
    reopened = (await _complete(client, created["id"], **kwargs)).json()
    assert (reopened["completed"], reopened["status"], reopened["version"]) == (False, "pending", 3)
    assert_invariant(reopened)


async def test_complete_with_state_is_idempotent_and_keeps_completed_at(client):
    created = await make_task(client, ALICE)
    first = await _complete(client, created["id"], json={"completed": True})
    second = await _complete(client, created["id"], json={"completed": True})
    assert first.status_code == second.status_code == 200
    assert second.json()["completed_at"] == first.json()["completed_at"]
    assert second.json()["version"] == first.json()["version"] == 2
    reopened = (await _complete(client, created["id"], json={"completed": False})).json()
    assert (reopened["status"], reopened["completed_at"]) == ("pending", None)


async def test_complete_false_keeps_in_progress_status(client: httpx.AsyncClient):
    created = await make_task(client, ALICE, status="in_progress")
    response = await _complete(client, created["id"], json={"completed": False})
    assert response.json()["status"] == "in_progress"
    assert response.json()["version"] == 1


@pytest.mark.parametrize("body", [{"completed": "yes"}, {"completed": None}, {"completed": 1}])
async def test_complete_with_invalid_state_is_400(client: httpx.AsyncClient, body):
    created = await make_task(client, ALICE)
    response = await _complete(client, created["id"], json=body)
    assert assert_error(response, 400, "VALIDATION_ERROR")["errors"][0]["field"] == "completed"


@pytest.mark.parametrize(("update", "expected"), [
    ({"status": "completed"}, ("completed", True)),
    ({"completed": True}, ("completed", True)),
    ({"status": "in_progress"}, ("in_progress", False)),
    ({"completed": False}, ("pending", False)),
    ({"status": "completed", "completed": True}, ("completed", True)),
])
async def test_update_keeps_status_and_completed_together(client, update, expected):
    created = await make_task(client, ALICE, status="completed")
    response = await client.put(tasks_url(ALICE, created["id"]), json=update, headers=auth(ALICE))
    task = response.json()
    assert (task["status"], task["completed"]) == expected
    assert_invariant(task)


async def test_update_keeps_completed_at_while_completed(client: httpx.AsyncClient):
    created = await make_task(client, ALICE, completed=True)
    response = await client.put(tasks_url(ALICE, created["id"]),
                                json={"title": "renamed", "status": "completed"},
                                headers=auth(ALICE))
    assert response.json()["completed_at"] == created["completed_at"]


@pytest.mark.parametrize("fields", [
    {"completed": True}, {"status": "completed"}, {"status": "completed", "completed": True},
])
async def test_create_completed_task_sets_completed_at(client: httpx.AsyncClient, fields):
    task = await make_task(client, ALICE, **fields)
    assert (task["status"], task["completed"]) == ("completed", True)
    assert_invariant(task)


@pytest.mark.parametrize("fields", [
    {"completed": True, "status": "pending"}, {"completed": False, "status": "completed"},
])
async def test_contradicting_status_and_completed_is_400(client: httpx.AsyncClient, fields):
    response = await client.post(tasks_url(ALICE), json={"title": "x", **fields},
                                 headers=auth(ALICE))
    assert assert_error(response, 400, "VALIDATION_ERROR")["errors"][0]["field"] == "completed"


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(("body", "field"), [
    ({}, "title"),
    ({"title": ""}, "title"),
    ({"title": "   \t\n "}, "title"),
    ({"title": "x" * 256}, "title"),
    ({"title": None}, "title"),
    ({"title": 5}, "title"),
    ({"title": "nul\u0000byte"}, "title"),
    ({"title": "ok", "description": "x" * 10_001}, "description"),
    ({"title": "ok", "description": "a\u0000"}, "description"),
    ({"title": "ok", "completed": "yes"}, "completed"),
    ({"title": "ok", "status": "done"}, "status"),
    ({"title": "ok", "priority": "urgent"}, "priority"),
    ({"title": "ok", "due_date": "tomorrow"}, "due_date"),
    ({"title": "ok", "due_date": 1700000000}, "due_date"),
    ({"title": "ok", "due_date": "1700000000"}, "due_date"),  # pydantic: a Unix time (fuzzer)
    ({"title": "ok", "due_date": "0.5"}, "due_date"),
])
async def test_create_task_validation_errors_are_400(client: httpx.AsyncClient, body, field):
    response = await client.post(tasks_url(ALICE), json=body, headers=auth(ALICE))
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert [e["field"] for e in body["errors"]] == [field]
    assert all(e["message"] for e in body["errors"])


async def test_title_of_255_characters_after_trimming_is_accepted(client: httpx.AsyncClient):
    task = await make_task(client, ALICE, title="  " + "é" * 255 + "  ")
    assert task["title"] == "é" * 255


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b"\xff\xfe{}", b"null", b""])
async def test_malformed_body_is_400(client: httpx.AsyncClient, content):
    response = await client.post(tasks_url(ALICE), content=content,
                                 headers={**auth(ALICE), "Content-Type": "application/json"})
    assert assert_error(response, 400, "VALIDATION_ERROR")["errors"][0]["field"] == "body"


async def test_body_over_one_mebibyte_is_413(client: httpx.AsyncClient):
    body = b'{"title": "big", "description": "' + b"x" * (1024 * 1024) + b'"}'
    response = await client.post(tasks_url(ALICE), content=body, headers=auth(ALICE))
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


async def test_body_over_the_limit_without_token_is_401_not_413(client: httpx.AsyncClient):
    body = b'{"title": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    assert_error(await client.post(tasks_url(ALICE), content=body), 401, "UNAUTHENTICATED")


async def test_unicode_round_trips_exactly(client: httpx.AsyncClient):
    title = "Émoji 🎉 عربي e\u0301 👩\u200d💻"
    task = await make_task(client, ALICE, title=title, description=title)
    fetched = (await client.get(tasks_url(ALICE, task["id"]), headers=auth(ALICE))).json()
    assert (fetched["title"], fetched["description"]) == (title, title)


# ---------------------------------------------------------------- optimistic concurrency
# Status precedence, isolation and stale versions on every door: tests/test_every_door.py.


async def test_weak_if_match_never_matches(client: httpx.AsyncClient):
    task = await make_task(client, ALICE)
    url = tasks_url(ALICE, task["id"])
    assert_error(await client.put(url, json={"title": "x"},
                                  headers={**auth(ALICE), "If-Match": 'W/"1"'}),
                 412, "PRECONDITION_FAILED")
    assert (await client.get(url, headers=auth(ALICE))).json() == task


@pytest.mark.parametrize("if_match", ['"1"', '"5", "1"', "*"])
async def test_matching_if_match_succeeds(client: httpx.AsyncClient, if_match):
    task = await make_task(client, ALICE)
    response = await client.put(tasks_url(ALICE, task["id"]), json={"title": "y"},
                                headers={**auth(ALICE), "If-Match": if_match})
    assert response.status_code == 200 and response.headers["etag"] == '"2"'


# ---------------------------------------------------------------- listing


async def test_pagination_with_ties_never_overlaps_or_skips(client: httpx.AsyncClient, app):
    ids = {(await make_task(client, ALICE, title="same", priority="high"))["id"] for _ in range(7)}
    for sort in ("priority", "title", "status", "created_at", "due_date"):
        for order in ("asc", "desc"):
            seen: list[str] = []
            for offset in range(0, 7, 3):
                query = f"?sort={sort}&order={order}&limit=3&offset={offset}"
                seen += (await SURFACE_A.listed(client, ALICE, query)).ids
            assert sorted(seen) == sorted(ids) and len(seen) == 7, (sort, order)


async def test_page_parameter_and_link_header(client: httpx.AsyncClient):
    for i in range(5):
        await make_task(client, ALICE, title=f"t{i}")
    first = await SURFACE_A.listed(client, ALICE, "?limit=2&page=1")
    assert first.total == 5
    url = f"http://testserver{tasks_url(ALICE)}"
    assert first.response.headers["link"] == (f'<{url}?limit=2&page=2>; rel="next", '
                                              f'<{url}?limit=2&page=3>; rel="last"')
    last = await SURFACE_A.listed(client, ALICE, "?limit=2&page=3")
    assert len(last.ok_tasks()) == 1 and 'rel="next"' not in last.response.headers["link"]
    by_offset = await SURFACE_A.listed(client, ALICE, "?limit=2&offset=2")
    assert by_offset.response.headers["link"] == (
        f'<{url}?limit=2&offset=0>; rel="first", <{url}?limit=2&offset=0>; rel="prev", '
        f'<{url}?limit=2&offset=4>; rel="next", <{url}?limit=2&offset=4>; rel="last"')
    assert by_offset.titles == ["t2", "t1"]


async def test_sort_by_priority_and_status_use_their_natural_order(client: httpx.AsyncClient):
    for priority, status in (("low", "completed"), ("high", "pending"), ("medium", "in_progress")):
        await make_task(client, ALICE, title=priority, priority=priority, status=status)
    by_priority = (await SURFACE_A.listed(client, ALICE, "?sort=priority&order=asc")).ok_tasks()
    assert [t["priority"] for t in by_priority] == ["low", "medium", "high"]
    by_status = (await SURFACE_A.listed(client, ALICE, "?sort=status&order=asc")).ok_tasks()
    assert [t["status"] for t in by_status] == ["pending", "in_progress", "completed"]
    by_title = await SURFACE_A.listed(client, ALICE, "?sort=title&order=asc")
    assert by_title.titles == ["high", "low", "medium"]


async def test_due_date_sorts_missing_last_and_filters_leave_them_out(client):
    await make_task(client, ALICE, title="none")
    await make_task(client, ALICE, title="late", due_date="2030-06-01T00:00:00Z")
    await make_task(client, ALICE, title="early", due_date="2030-01-01T00:00:00Z")
    for order, expected in (("asc", ["early", "late", "none"]),
                            ("desc", ["late", "early", "none"])):
        listed = await SURFACE_A.listed(client, ALICE, f"?sort=due_date&order={order}")
        assert listed.titles == expected
    after = await SURFACE_A.listed(client, ALICE, "?due_after=2030-03-01T00:00:00Z")
    assert after.titles == ["late"]
    before = await SURFACE_A.listed(client, ALICE, "?due_date_to=2030-03-01")
    assert before.titles == ["early"]
    for bound in ("due_after", "due_before"):  # a task due at the bound is in: both include it
        at = await SURFACE_A.listed(client, ALICE, f"?{bound}=2030-06-01T00:00:00Z")
        assert "late" in at.titles, bound


async def test_filters_by_status_completed_and_priority(client: httpx.AsyncClient):
    await make_task(client, ALICE, title="p", priority="low")
    await make_task(client, ALICE, title="i", status="in_progress", priority="high")
    await make_task(client, ALICE, title="c", completed=True, priority="high")

    async def titles(query: str) -> list[str]:
        return sorted((await SURFACE_A.listed(client, ALICE, query)).titles)

    assert await titles("?status=all") == ["c", "i", "p"]
    assert await titles("?status=in_progress") == ["i"]
    assert await titles("?completed=true") == ["c"]
    assert await titles("?completed=false") == ["i", "p"]
    assert await titles("?priority=high&status=completed") == ["c"]
    assert (await SURFACE_A.listed(client, ALICE, "?priority=high")).total == 2


async def test_search_is_case_insensitive_and_takes_wildcards_literally(client):
    await make_task(client, ALICE, title="100% done")
    await make_task(client, ALICE, title="1000 things")
    await make_task(client, ALICE, title="snake_case", description="Under_score")
    await make_task(client, ALICE, title="snakeXcase", description="plain")
    await make_task(client, ALICE, title="other", description="Mentions SNAKE_CASE here")

    async def titles(query: str) -> list[str]:
        return sorted((await SURFACE_A.listed(client, ALICE, query)).titles)

    assert await titles("?q=%25") == ["100% done"]
    assert await titles("?search=snake_case") == ["other", "snake_case"]
    assert await titles("?q=UNDER_") == ["snake_case"]
    assert await titles("?q=' OR '1'='1") == []
    await make_task(client, ALICE, title="deal", description="50% off")
    await make_task(client, ALICE, title="sale", description="500 off")
    assert await titles("?q=0%25") == ["100% done", "deal"]  # in descriptions too


@pytest.mark.parametrize("query", [
    "?limit=0", "?limit=1001", "?limit=abc", "?offset=-1", "?page=0", "?status=done",
    "?sort=colour", "?order=up", "?completed=yes", "?priority=urgent", "?due_after=soon",
    "?offset=1&page=2", "?limit=99999999999999999999999", "?q=a%00b",
    "?due_date_to=0.5", "?due_after=1700000000",  # not Unix times (found by schemathesis)
    "?q=%FF", "?search=%ED%A0%80",  # not UTF-8: was a search for U+FFFD (hostile inputs)
])
async def test_invalid_list_parameters_are_400(client: httpx.AsyncClient, query):
    response = await client.get(tasks_url(ALICE) + query, headers=auth(ALICE))
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_unknown_list_parameters_are_ignored(client: httpx.AsyncClient):
    await make_task(client, ALICE)
    listed = await SURFACE_A.listed(client, ALICE, "?foo=bar&_t=123&sort=created&limit=500")
    assert len(listed.ok_tasks()) == 1


async def test_trailing_slashes_are_accepted_without_redirect(client: httpx.AsyncClient):
    created = await client.post(tasks_url(ALICE) + "/", json={"title": "slash"},
                                headers=auth(ALICE))
    assert created.status_code == 201
    task_id = created.json()["id"]
    for method, url in (("GET", tasks_url(ALICE) + "/"), ("GET", tasks_url(ALICE, task_id) + "/"),
                        ("PATCH", tasks_url(ALICE, task_id, "/complete/"))):
        response = await client.request(method, url, headers=auth(ALICE))
        assert response.status_code == 200, (method, url)


async def test_every_response_has_request_id_and_security_headers(client: httpx.AsyncClient):
    response = await client.get(tasks_url(ALICE), headers={**auth(ALICE), "X-Request-ID": "abc-1"})
    assert response.headers["x-request-id"] == "abc-1"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "private, no-cache"  # a read with an ETag
    created = await client.post(tasks_url(ALICE), json={"title": "t"}, headers=auth(ALICE))
    assert created.headers["cache-control"] == "no-store"
    hostile = await client.get(tasks_url(ALICE), headers={"X-Request-ID": "bad id\n"})
    assert hostile.headers["x-request-id"] != "bad id"
    assert hostile.json()["request_id"] == hostile.headers["x-request-id"]


async def test_unknown_path_and_method_use_the_error_body(client: httpx.AsyncClient):
    assert_error(await client.get("/api/nothing/here/at/all"), 404, "NOT_FOUND")
    assert_error(await client.post("/health"), 405, "METHOD_NOT_ALLOWED")


async def test_405_allow_names_every_method_of_the_path(client: httpx.AsyncClient):
    # Starlette names only the first route it tried; the fuzzer sent OPTIONS and saw "GET".
    response = await client.options(tasks_url(ALICE), headers=auth(ALICE))
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET, HEAD, POST"
    response = await client.post(tasks_url(ALICE, str(uuid.uuid4()), "/complete"))
    assert response.headers["allow"] == "PATCH"


async def test_health_and_ready_need_no_token(client: httpx.AsyncClient):
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready", "database": "ok"})
