"""GraphQL at /graphql (contract section 8) through HTTP POSTs, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolvers import tasks as task_resolvers
from schema.router import EXAMPLE_QUERY
from tests.graphql_support import TASK_FIELDS, as_rest, count_statements, data, error, gql
from tests.support import ALICE, BOB, auth, make_task, tasks_url, token

pytestmark = pytest.mark.anyio

TASK = f"query($id: ID!) {{ task(id: $id) {{ {TASK_FIELDS} }} }}"
CREATE = f"mutation($input: CreateTaskInput!) {{ createTask(input: $input) {{ {TASK_FIELDS} }} }}"
UPDATE = f"""mutation($id: ID!, $input: UpdateTaskInput!, $v: Int) {{
  updateTask(id: $id, input: $input, expectedVersion: $v) {{ {TASK_FIELDS} }} }}"""
SET_COMPLETED = f"""mutation($id: ID!, $completed: Boolean!) {{
  setTaskCompleted(id: $id, completed: $completed) {{ {TASK_FIELDS} }} }}"""
TOGGLE = f"mutation($id: ID!) {{ toggleTaskCompleted(id: $id) {{ {TASK_FIELDS} }} }}"
DELETE = "mutation($id: ID!) { deleteTask(id: $id) }"
PAGE = """query($first: Int, $after: String, $order: TaskOrder, $filter: TaskFilter) {
  tasks(first: $first, after: $after, orderBy: $order, filter: $filter) {
    totalCount
    edges { cursor node { id title } }
    nodes { id }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def create(client: httpx.AsyncClient, user: str, **fields: object) -> dict[str, object]:
    fields.setdefault("title", "A task")
    result = await data(client, user, CREATE, input=fields)
    task: dict[str, object] = result["createTask"]
    return task


# --- authentication -------------------------------------------------------------------------

async def test_post_graphql_without_token_is_401_unauthenticated(client: httpx.AsyncClient):
    response = await gql(client, None, "{ me { id } }")
    assert response.status_code == 401
    assert response.json() == {"errors": [{
        "message": "Authentication required: send Authorization: Bearer <token>",
        "extensions": {"code": "UNAUTHENTICATED"},
    }]}
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize("header", ["Bearer not-a-jwt", f"Bearer {token(ALICE, secret='x' * 40)}"])
async def test_post_graphql_with_invalid_token_is_401(client: httpx.AsyncClient, header: str):
    response = await client.post("/graphql", json={"query": "{ me { id } }"},
                                 headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_post_graphql_with_expired_token_is_401_with_reason(client: httpx.AsyncClient):
    response = await client.post("/graphql", json={"query": "{ me { id } }"},
                                 headers={"Authorization": f"Bearer {token(ALICE, ttl=-3600)}"})
    assert response.status_code == 401
    assert response.json() == {"errors": [{
        "message": "The token has expired",
        "extensions": {"code": "UNAUTHENTICATED", "reason": "TOKEN_EXPIRED"},
    }]}


async def test_get_graphiql_page_loads_without_token(client: httpx.AsyncClient):
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert "/static/vendor/graphiql/graphiql.min.js" in response.text
    assert "taskCounts { total pending inProgress completed }" in response.text  # example
    assert "Authorization" in response.text
    assert "Bearer ey" in response.text


async def test_graphiql_example_operation_runs(client: httpx.AsyncClient):
    await create(client, ALICE, title="listed")
    result = await data(client, ALICE, EXAMPLE_QUERY)
    assert result["me"]["taskCounts"]["total"] == 1
    assert result["tasks"]["nodes"][0]["title"] == "listed"


async def test_get_with_query_is_refused(client: httpx.AsyncClient):
    response = await client.get("/graphql", params={"query": "{ me { id } }"},
                                headers=auth(ALICE))
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


async def test_post_malformed_json_is_400_in_graphql_shape(client: httpx.AsyncClient):
    response = await client.post("/graphql", content=b"{nope",
                                 headers={**auth(ALICE), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"errors": [{"message": "Unable to parse request body as JSON",
                                           "extensions": {"code": "BAD_REQUEST"}}]}


# --- queries ----------------------------------------------------------------------------------

async def test_post_over_one_mebibyte_is_413_in_graphql_shape(client: httpx.AsyncClient):
    body = b'{"query": "{ me { id } }", "variables": {"x": "' + b"a" * (1024 * 1024) + b'"}}'
    headers = {"Content-Type": "application/json"}
    response = await client.post("/graphql", content=body, headers={**auth(ALICE), **headers})
    assert response.status_code == 413
    assert response.json() == {"errors": [{"message": "The request body is too large",
                                           "extensions": {"code": "PAYLOAD_TOO_LARGE"}}]}
    anonymous = await client.post("/graphql", content=body, headers=headers)
    assert anonymous.status_code == 401


async def test_query_me_returns_the_token_user(client: httpx.AsyncClient):
    response = await client.post(
        "/graphql", json={"query": "{ me { id email name } }"},
        headers=auth(ALICE, email="alice@example.com", name="Alice"),
    )
    assert response.json() == {"data": {"me": {"id": ALICE, "email": "alice@example.com",
                                               "name": "Alice"}}}


async def test_query_task_returns_every_field(client: httpx.AsyncClient):
    created = await create(client, ALICE, title="  Report ", description="Q3", priority="HIGH",
                           status="IN_PROGRESS", dueDate="2030-01-02T03:04:05+02:00")
    found = (await data(client, ALICE, TASK, id=created["id"]))["task"]
    assert found == created
    assert found | {"id": None, "createdAt": None, "updatedAt": None} == {
        "id": None, "title": "Report", "description": "Q3", "completed": False,
        "completedAt": None, "status": "IN_PROGRESS", "priority": "HIGH",
        "dueDate": "2030-01-02T01:04:05Z", "createdAt": None, "updatedAt": None, "version": 1,
    }
    assert found["createdAt"] == found["updatedAt"]
    assert str(found["createdAt"]).endswith("Z")


@pytest.mark.parametrize("task_id", ["not-a-uuid", "3f2b8c4e-9d1a-4e7b-8a6c-5d0f1e2a3b4c", ""])
async def test_query_missing_task_is_null(client: httpx.AsyncClient, task_id: str):
    assert await data(client, ALICE, TASK, id=task_id) == {"task": None}


async def test_query_task_counts_and_totals(client: httpx.AsyncClient):
    await create(client, ALICE, title="a")
    await create(client, ALICE, title="b", status="IN_PROGRESS")
    await create(client, ALICE, title="c", completed=True)
    await create(client, BOB, title="not alice's")
    result = await data(client, ALICE, """{
      me { taskCounts { total pending inProgress completed }
           tasks(filter: {status: COMPLETED}) { totalCount } }
      tasks { totalCount } }""")
    assert result == {
        "me": {"taskCounts": {"total": 3, "pending": 1, "inProgress": 1, "completed": 1},
               "tasks": {"totalCount": 1}},
        "tasks": {"totalCount": 3},
    }


async def test_query_tasks_search_takes_the_like_escape_character_literally(
    client: httpx.AsyncClient,
):
    await create(client, ALICE, title="Either/or")
    await create(client, ALICE, title="50% off")

    async def titles(search: str) -> list[str]:
        page = (await data(client, ALICE, PAGE, filter={"search": search}))["tasks"]
        return sorted(edge["node"]["title"] for edge in page["edges"])

    assert await titles("r/o") == ["Either/or"]
    assert await titles("/") == ["Either/or"]
    assert await titles("//") == []
    assert await titles("/%") == []


async def test_query_tasks_filters(client: httpx.AsyncClient):
    await create(client, ALICE, title="Buy 100% milk", priority="HIGH",
                 dueDate="2030-01-10T00:00:00Z")
    await create(client, ALICE, title="Call mum", description="about MILK",
                 dueDate="2030-02-10T00:00:00Z")
    await create(client, ALICE, title="Read", completed=True)

    async def titles(**flt: object) -> list[str]:
        page = (await data(client, ALICE, PAGE, filter=flt))["tasks"]
        return sorted(edge["node"]["title"] for edge in page["edges"])

    assert await titles(search="milk") == ["Buy 100% milk", "Call mum"]
    assert await titles(search="100%") == ["Buy 100% milk"]
    assert await titles(search="_") == []
    assert await titles(priority="HIGH") == ["Buy 100% milk"]
    assert await titles(status="COMPLETED") == ["Read"]
    assert await titles(completed=False) == ["Buy 100% milk", "Call mum"]
    assert await titles(dueAfter="2030-02-01T00:00:00Z") == ["Call mum"]
    assert await titles(dueBefore="2030-02-01T00:00:00Z") == ["Buy 100% milk"]


@pytest.mark.parametrize(("order", "expected"), [
    (None, ["c", "b", "a"]),
    ({"field": "TITLE", "direction": "ASC"}, ["a", "b", "c"]),
    ({"field": "PRIORITY", "direction": "DESC"}, ["b", "a", "c"]),
    ({"field": "DUE_DATE", "direction": "ASC"}, ["c", "a", "b"]),
    ({"field": "STATUS"}, ["b", "c", "a"]),  # direction defaults to DESC
])
async def test_query_tasks_order_by(client: httpx.AsyncClient, order: object,
                                    expected: list[str]):
    await create(client, ALICE, title="a", priority="MEDIUM", dueDate="2030-01-02T00:00:00Z")
    await create(client, ALICE, title="b", priority="HIGH", completed=True)
    await create(client, ALICE, title="c", priority="LOW", status="IN_PROGRESS",
                 dueDate="2030-01-01T00:00:00Z")
    page = (await data(client, ALICE, PAGE, order=order))["tasks"]
    assert [edge["node"]["title"] for edge in page["edges"]] == expected


@pytest.mark.parametrize("order", [
    {"field": "CREATED_AT", "direction": "DESC"},
    {"field": "TITLE", "direction": "ASC"},
    {"field": "PRIORITY", "direction": "ASC"},
    {"field": "DUE_DATE", "direction": "DESC"},
])
async def test_cursors_never_skip_or_repeat_while_tasks_are_added(client: httpx.AsyncClient,
                                                                   order: dict[str, str]):
    priorities = ["LOW", "MEDIUM", "HIGH"]
    for n in range(7):
        due = f"2030-01-0{n % 3 + 1}T00:00:00Z" if n % 2 else None
        await create(client, ALICE, title=f"t{n % 3}", priority=priorities[n % 3], dueDate=due)
    everything = (await data(client, ALICE, PAGE, first=100))["tasks"]["nodes"]
    seen: list[str] = []
    after = None
    pages = 0
    for _ in range(30):  # 7 tasks, and one more per page: a stuck cursor never ends
        # pages of 2: up to three tasks share a title or a priority, so ties span pages
        page = (await data(client, ALICE, PAGE, first=2, after=after, order=order))["tasks"]
        ids = [edge["node"]["id"] for edge in page["edges"]]
        assert [node["id"] for node in page["nodes"]] == ids
        for edge in page["edges"]:  # opaque, and safe in a URL as they are
            assert re.fullmatch(r"[A-Za-z0-9_-]+", edge["cursor"]), edge["cursor"]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        seen += ids
        pages += 1
        # tasks added meanwhile sort before the cursor (newest) or wherever: never repeat
        await create(client, ALICE, title="t1", priority="MEDIUM")
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    else:
        pytest.fail("the pages never end")
    assert len(seen) == len(set(seen))
    assert {task["id"] for task in everything} <= set(seen)
    assert pages >= 3
    assert page["totalCount"] >= 7


async def test_page_after_the_last_task_is_empty(client: httpx.AsyncClient):
    await create(client, ALICE, title="only")
    first = (await data(client, ALICE, PAGE, first=1))["tasks"]
    assert first["pageInfo"]["hasNextPage"] is False
    rest = (await data(client, ALICE, PAGE, first=1,
                       after=first["pageInfo"]["endCursor"]))["tasks"]
    assert rest["edges"] == []
    assert rest["nodes"] == []
    assert rest["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True,
                                "startCursor": None, "endCursor": None}
    assert rest["totalCount"] == 1


@pytest.mark.parametrize(("search", "message"), [
    ("a\x00b", "must not contain NUL characters"), ("x" * 256, "must be at most 255 characters"),
])
async def test_a_search_that_cannot_be_stored_text_is_a_validation_error(
        client: httpx.AsyncClient, search: str, message: str):
    err = await error(client, ALICE, PAGE, filter={"search": search})
    assert err["extensions"] == {"code": "VALIDATION_ERROR", "errors": [
        {"field": "search", "message": message}]}
    assert err["message"] == f"search: {message}"


@pytest.mark.parametrize("first", [0, -1, 101])
async def test_first_outside_1_to_100_is_validation_error(client: httpx.AsyncClient, first: int):
    err = await error(client, ALICE, PAGE, first=first)
    assert err["extensions"] == {"code": "VALIDATION_ERROR", "errors": [
        {"field": "first", "message": "must be between 1 and 100"}]}
    assert err["path"] == ["tasks"]


async def test_first_of_100_is_accepted(client: httpx.AsyncClient):
    assert (await data(client, ALICE, PAGE, first=100))["tasks"]["totalCount"] == 0


INVALID_CURSOR = {"code": "VALIDATION_ERROR", "errors": [
    {"field": "after", "message": "is not a valid cursor for this ordering"}]}
SOME_ID = "3f2b8c4e-9d1a-4e7b-8a6c-5d0f1e2a3b4c"


def forged_cursor(*parts: object) -> str:
    """A cursor made by hand: the encoding is easy to guess, so clients may try."""
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


@pytest.mark.parametrize("after", ["garbage", "WyJ0aXRsZSIsImEiLCJ4Il0"])
async def test_foreign_or_invalid_cursor_is_validation_error(client: httpx.AsyncClient,
                                                             after: str):
    err = await error(client, ALICE, PAGE, after=after)
    assert err["extensions"] == INVALID_CURSOR


@pytest.mark.parametrize(("order", "after"), [
    ("PRIORITY", forged_cursor("priority", "high", SOME_ID)),  # not the rank the cursor holds
    ("PRIORITY", forged_cursor("priority", True, SOME_ID)),
    ("PRIORITY", forged_cursor("priority", 3, SOME_ID)),  # one past the last of three ranks
    ("TITLE", forged_cursor("title", "a\x00b", SOME_ID)),
    ("STATUS", forged_cursor("status", 1.5, SOME_ID)),
    ("TITLE", forged_cursor("title", 5, SOME_ID)),
    ("TITLE", forged_cursor("title", None, SOME_ID)),
    ("CREATED_AT", forged_cursor("created_at", "yesterday", SOME_ID)),
    ("CREATED_AT", forged_cursor("created_at", None, SOME_ID)),
    ("DUE_DATE", forged_cursor("due_date", "0001-01-01T00:00:00+01:00", SOME_ID)),  # year 0 in UTC
    ("DUE_DATE", forged_cursor("due_date", None, "not-a-uuid")),
    ("TITLE", forged_cursor("title", "a")),
    ("TITLE", forged_cursor("title", "a", SOME_ID, "extra")),
])
async def test_forged_cursor_is_validation_error(client: httpx.AsyncClient, order: str,
                                                 after: str):
    err = await error(client, ALICE, PAGE, after=after, order={"field": order})
    assert err["extensions"] == INVALID_CURSOR


@pytest.mark.parametrize("moment", [
    "2026-03-01T10:00:00+00:00", "2026-03-01T12:30:00+02:30", "2026-03-01T10:00:00",  # naive: UTC
])
async def test_forged_cursor_names_its_instant_in_any_offset(client: httpx.AsyncClient,
                                                             moment: str):
    tasks = [await create(client, ALICE, title=f"t{hour}", dueDate=f"2026-03-01T{hour:02}:00:00Z")
             for hour in (9, 10, 11)]
    after = forged_cursor("due_date", moment, tasks[1]["id"])
    for direction, expected in (("ASC", ["t11"]), ("DESC", ["t9"])):
        page = (await data(client, ALICE, PAGE, after=after,
                           order={"field": "DUE_DATE", "direction": direction}))["tasks"]
        assert [edge["node"]["title"] for edge in page["edges"]] == expected


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(after=st.text(max_size=80) | st.builds(
    forged_cursor, st.sampled_from(["title", "priority", "created_at", "x"]),
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    st.uuids().map(str) | st.text(max_size=10)))
async def test_any_after_is_a_page_or_a_validation_error(client: httpx.AsyncClient, after: str):
    response = await gql(client, ALICE, PAGE, after=after, order={"field": "TITLE"})
    assert response.status_code == 200, response.text
    body = response.json()
    if "errors" in body:
        assert [e["extensions"] for e in body["errors"]] == [INVALID_CURSOR]
    else:
        assert body["data"]["tasks"]["totalCount"] >= 0


async def test_cursors_are_read_in_the_url_safe_alphabet_and_nothing_else(
        client: httpx.AsyncClient):
    # '?' repeated puts the six bits 111111 at every alignment: '_' in URL-safe base64
    for title in ("????????", "?????????z"):
        await create(client, ALICE, title=title)
    by_title = {"field": "TITLE", "direction": "ASC"}
    first = (await data(client, ALICE, PAGE, first=1, order=by_title))["tasks"]
    cursor = first["pageInfo"]["endCursor"]
    assert "_" in cursor
    rest = (await data(client, ALICE, PAGE, first=1, after=cursor,
                       order=by_title))["tasks"]
    assert [edge["node"]["title"] for edge in rest["edges"]] == ["?????????z"]
    tampered = cursor[:4] + "!!!!" + cursor[4:]  # not skipped over: refused
    err = await error(client, ALICE, PAGE, after=tampered, order=by_title)
    assert err["extensions"] == INVALID_CURSOR


async def test_cursor_of_another_ordering_is_validation_error(client: httpx.AsyncClient):
    await create(client, ALICE)
    page = (await data(client, ALICE, PAGE, first=1))["tasks"]
    err = await error(client, ALICE, PAGE, after=page["pageInfo"]["endCursor"],
                      order={"field": "TITLE"})
    assert err["extensions"]["errors"][0]["field"] == "after"


# --- mutations --------------------------------------------------------------------------------

async def test_create_task_with_defaults(client: httpx.AsyncClient):
    task = await create(client, ALICE, title="Buy milk")
    assert uuid.UUID(str(task["id"])).version == 4
    assert task | {"id": None, "createdAt": None, "updatedAt": None} == {
        "id": None, "title": "Buy milk", "description": None, "completed": False,
        "completedAt": None, "status": "PENDING", "priority": "MEDIUM", "dueDate": None,
        "createdAt": None, "updatedAt": None, "version": 1,
    }


@pytest.mark.parametrize("fields", [{"completed": True}, {"status": "COMPLETED"}])
async def test_create_completed_task_sets_completed_at(client: httpx.AsyncClient, fields):
    task = await create(client, ALICE, **fields)
    assert (task["status"], task["completed"]) == ("COMPLETED", True)
    assert task["completedAt"] == task["createdAt"]


@pytest.mark.parametrize(("fields", "expected"), [
    ({"title": "   "}, [{"field": "title", "message": "must not be empty"}]),
    ({"title": "x" * 256}, [{"field": "title", "message": "must be at most 255 characters"}]),
    ({"title": "ok", "description": "a\u0000b"},
     [{"field": "description", "message": "must not contain NUL characters"}]),
    ({"title": "ok", "status": "PENDING", "completed": True},
     [{"field": "completed", "message": "contradicts status 'pending'"}]),
])
async def test_create_task_validation_errors(client: httpx.AsyncClient, fields, expected):
    err = await error(client, ALICE, CREATE, input=fields)
    assert err["message"] == f"{expected[0]['field']}: {expected[0]['message']}"
    assert err["extensions"] == {"code": "VALIDATION_ERROR", "errors": expected}
    assert err["path"] == ["createTask"]
    assert (await data(client, ALICE, PAGE))["tasks"]["totalCount"] == 0


async def test_create_task_with_wrong_types_is_rejected_before_running(client):
    response = await gql(client, ALICE, CREATE, input={"title": 5, "completed": "yes"})
    body = response.json()
    assert body["data"] is None
    assert {e["extensions"]["code"] for e in body["errors"]} == {"GRAPHQL_VALIDATION_FAILED"}


async def test_update_task_changes_only_sent_fields(client: httpx.AsyncClient):
    task = await create(client, ALICE, title="old", description="keep", priority="LOW")
    updated = (await data(client, ALICE, UPDATE, id=task["id"],
                          input={"title": "new", "dueDate": "2030-05-01T12:00:00Z"}))["updateTask"]
    assert updated | {"updatedAt": None} == task | {
        "title": "new", "dueDate": "2030-05-01T12:00:00Z", "version": 2, "updatedAt": None}
    assert updated["updatedAt"] >= task["updatedAt"]


async def test_update_task_explicit_null_clears_optional_fields(client: httpx.AsyncClient):
    task = await create(client, ALICE, description="d", dueDate="2030-01-01T00:00:00Z")
    updated = (await data(client, ALICE, UPDATE, id=task["id"],
                          input={"description": None, "dueDate": None}))["updateTask"]
    assert (updated["description"], updated["dueDate"], updated["version"]) == (None, None, 2)


@pytest.mark.parametrize(("fields", "field"), [
    ({}, "input"), ({"title": None}, "title"), ({"status": None}, "status"),
    ({"completed": None}, "completed"), ({"title": ""}, "title"),
])
async def test_update_task_invalid_input_is_validation_error(client: httpx.AsyncClient,
                                                             fields, field):
    task = await create(client, ALICE)
    err = await error(client, ALICE, UPDATE, id=task["id"], input=fields)
    assert err["extensions"]["code"] == "VALIDATION_ERROR"
    assert [e["field"] for e in err["extensions"]["errors"]] == [field]
    assert (await data(client, ALICE, TASK, id=task["id"]))["task"] == task


async def test_update_task_with_stale_expected_version_is_conflict(client: httpx.AsyncClient):
    task = await create(client, ALICE, title="v1")
    await data(client, ALICE, UPDATE, id=task["id"], input={"title": "v2"}, v=1)
    err = await error(client, ALICE, UPDATE, id=task["id"], input={"title": "v3"}, v=1)
    assert err["extensions"] == {"code": "CONFLICT"}
    assert err["message"] == "The task has changed since expectedVersion"
    current = (await data(client, ALICE, TASK, id=task["id"]))["task"]
    assert (current["title"], current["version"]) == ("v2", 2)


SET_COMPLETED_AT = f"""mutation($id: ID!, $completed: Boolean!, $v: Int) {{
  setTaskCompleted(id: $id, completed: $completed, expectedVersion: $v) {{ {TASK_FIELDS} }} }}"""


async def test_set_task_completed_with_stale_expected_version_is_conflict(
        client: httpx.AsyncClient):
    task = await create(client, ALICE)
    err = await error(client, ALICE, SET_COMPLETED_AT, id=task["id"], completed=True, v=2)
    assert err["extensions"] == {"code": "CONFLICT"}
    assert (await data(client, ALICE, TASK, id=task["id"]))["task"] == task
    done = await data(client, ALICE, SET_COMPLETED_AT, id=task["id"], completed=True, v=1)
    assert done["setTaskCompleted"]["version"] == 2


@pytest.mark.parametrize("mutation", [SET_COMPLETED, TOGGLE])
async def test_completing_is_one_instant(client: httpx.AsyncClient, mutation: str):
    task = await create(client, ALICE)
    done = next(iter((await data(client, ALICE, mutation, id=task["id"],
                                 completed=True)).values()))
    assert done["completedAt"] == done["updatedAt"] != task["updatedAt"]


async def test_set_task_completed_is_idempotent(client: httpx.AsyncClient):
    task = await create(client, ALICE, status="IN_PROGRESS")
    done = (await data(client, ALICE, SET_COMPLETED, id=task["id"],
                       completed=True))["setTaskCompleted"]
    again = (await data(client, ALICE, SET_COMPLETED, id=task["id"],
                        completed=True))["setTaskCompleted"]
    assert (done["status"], done["completed"], done["version"]) == ("COMPLETED", True, 2)
    assert again == done
    reopened = (await data(client, ALICE, SET_COMPLETED, id=task["id"],
                           completed=False))["setTaskCompleted"]
    assert (reopened["status"], reopened["completedAt"]) == ("PENDING", None)


async def test_set_task_completed_defaults_to_true(client: httpx.AsyncClient):
    task = await create(client, ALICE)
    result = await data(client, ALICE, 'mutation($id: ID!) { setTaskCompleted(id: $id) '
                                       '{ completed } }', id=task["id"])
    assert result == {"setTaskCompleted": {"completed": True}}


async def test_toggle_task_completed_flips_the_state(client: httpx.AsyncClient):
    task = await create(client, ALICE)
    first = (await data(client, ALICE, TOGGLE, id=task["id"]))["toggleTaskCompleted"]
    second = (await data(client, ALICE, TOGGLE, id=task["id"]))["toggleTaskCompleted"]
    assert (first["completed"], first["completedAt"] is not None) == (True, True)
    assert (second["completed"], second["completedAt"], second["version"]) == (False, None, 3)


async def test_delete_task_returns_its_id_and_it_is_gone(client: httpx.AsyncClient):
    task = await create(client, ALICE)
    assert await data(client, ALICE, DELETE, id=task["id"]) == {"deleteTask": task["id"]}
    assert await data(client, ALICE, TASK, id=task["id"]) == {"task": None}
    err = await error(client, ALICE, DELETE, id=task["id"])
    assert err["extensions"] == {"code": "NOT_FOUND"}
    assert err["message"] == "Task not found"


async def test_mutations_read_their_own_writes_in_one_operation(client: httpx.AsyncClient):
    task = await create(client, ALICE, title="before")
    result = await data(client, ALICE, """mutation($id: ID!) {
      a: updateTask(id: $id, input: {title: "after"}) { title version }
      b: toggleTaskCompleted(id: $id) { title completed version }
      c: deleteTask(id: $id) }""", id=task["id"])
    assert result == {"a": {"title": "after", "version": 2},
                      "b": {"title": "after", "completed": True, "version": 3},
                      "c": task["id"]}


# --- errors -----------------------------------------------------------------------------------

async def test_unexpected_error_is_masked_as_internal_error(client, monkeypatch):
    async def broken(*_: object) -> None:
        raise RuntimeError('relation "tasks" password=hunter2 SELECT * FROM tasks')

    monkeypatch.setattr(task_resolvers, "find_task", broken)
    response = await gql(client, ALICE, TASK, id=str(uuid.uuid4()))
    assert response.status_code == 200
    assert response.json() == {"data": {"task": None}, "errors": [{
        "message": "An unexpected error occurred", "locations": [{"line": 1, "column": 19}],
        "path": ["task"], "extensions": {"code": "INTERNAL_ERROR"}}]}
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text


async def test_database_unavailable_is_service_unavailable(client, monkeypatch):
    from persistence.errors import DatabaseUnavailable

    async def down(*_: object) -> None:
        raise DatabaseUnavailable("ConnectionRefusedError")

    monkeypatch.setattr(task_resolvers, "status_counts", down)
    err = await error(client, ALICE, "{ me { taskCounts { total } } }")
    assert err["extensions"] == {"code": "SERVICE_UNAVAILABLE"}
    assert "ConnectionRefused" not in err["message"]


async def test_syntax_error_is_parse_failed(client: httpx.AsyncClient):
    err = await error(client, ALICE, "{ me { id ")
    assert err["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"}


async def test_unknown_field_is_validation_failed(client: httpx.AsyncClient):
    err = await error(client, ALICE, "{ me { password } }")
    assert err["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}


async def test_invalid_datetime_is_validation_failed(client: httpx.AsyncClient):
    err = await error(client, ALICE, CREATE, input={"title": "x", "dueDate": "tomorrow"})
    assert err["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert "ISO 8601" in err["message"]


# --- DataLoaders ------------------------------------------------------------------------------

async def test_ten_aliased_task_fields_cost_one_statement(client: httpx.AsyncClient,
                                                          app: FastAPI):
    ids = [(await create(client, ALICE, title=f"t{n}"))["id"] for n in range(8)]
    ids += [(await create(client, BOB))["id"], str(uuid.uuid4())]
    query = "{ " + " ".join(f't{n}: task(id: "{task_id}") {{ id title }}'
                            for n, task_id in enumerate(ids)) + " }"
    with count_statements(app) as statements:
        result = await data(client, ALICE, query)
    assert len(statements) == 1, statements
    assert " IN " in statements[0].upper() or " = ANY " in statements[0].upper()  # all ten ids
    assert [result[f"t{n}"] and result[f"t{n}"]["title"] for n in range(10)] == [
        *(f"t{n}" for n in range(8)), None, None]


async def test_counts_and_totals_are_batched(client: httpx.AsyncClient, app: FastAPI):
    await create(client, ALICE)
    query = """{ a: me { taskCounts { total } } b: me { taskCounts { pending } }
                 x: tasks(first: 1) { nodes { id } } y: tasks(first: 2) { totalCount } }"""
    with count_statements(app) as statements:
        await data(client, ALICE, query)
    # one status count shared by both viewers, two pages (each carries its total)
    assert len(statements) == 3, statements


async def test_concurrent_operations_of_different_users_never_share_loader_entries(
    client: httpx.AsyncClient,
):
    alices = [(await create(client, ALICE, title=f"alice {n}"))["id"] for n in range(5)]
    bobs = [(await create(client, BOB, title=f"bob {n}"))["id"] for n in range(5)]
    query = "{ " + " ".join(f't{n}: task(id: "{task_id}") {{ title }}'
                            for n, task_id in enumerate(alices + bobs)) + " }"
    results = await asyncio.gather(*[data(client, user, query)
                                     for _ in range(5) for user in (ALICE, BOB)])
    for n, result in enumerate(results):
        owner = "alice" if n % 2 == 0 else "bob"
        titles = [task["title"] for task in result.values() if task is not None]
        assert len(titles) == 5
        assert all(title.startswith(owner) for title in titles)


# --- parity with REST surface A ---------------------------------------------------------------

async def test_task_created_through_rest_reads_identically_through_graphql(client):
    rest = await make_task(client, ALICE, title="Parity", description="every field",
                           priority="high", due_date="2030-03-04T05:06:07.123456+01:00",
                           completed=True)
    graph = (await data(client, ALICE, TASK, id=rest["id"]))["task"]
    assert as_rest(graph) == {k: v for k, v in rest.items() if k != "user_id"}


async def test_task_created_through_graphql_reads_identically_through_rest(client):
    graph = await create(client, ALICE, title="Parity", description="d", priority="LOW",
                         status="IN_PROGRESS", dueDate="2030-03-04T05:06:07Z")
    response = await client.get(tasks_url(ALICE, str(graph["id"])), headers=auth(ALICE))
    assert response.json() == {**as_rest(graph), "user_id": ALICE}
    await data(client, ALICE, UPDATE, id=graph["id"], input={"description": None})
    response = await client.get(tasks_url(ALICE, str(graph["id"])), headers=auth(ALICE))
    graph = (await data(client, ALICE, TASK, id=graph["id"]))["task"]
    assert response.json() == {**as_rest(graph), "user_id": ALICE}
