"""Whatever reaches /graphql, the answer is a result or a coded error: never a 500.

Hypothesis generates JSON bodies, query texts, cursors (bytes, text, and well-formed cursors
holding any JSON) and date-times with any year and offset, on SQLite and on PostgreSQL.
``HYPOTHESIS_PROFILE=deep`` runs thousands of examples instead of the CI's few.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.graphql_support import gql
from tests.support import ALICE, auth

pytestmark = pytest.mark.anyio

FIXTURES_ACROSS_EXAMPLES = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
DOCUMENTED_CODES = {"BAD_REQUEST", "PAYLOAD_TOO_LARGE", "GRAPHQL_PARSE_FAILED",
                    "GRAPHQL_VALIDATION_FAILED", "VALIDATION_ERROR", "NOT_FOUND", "CONFLICT"}
ORDER_FIELDS = ("CREATED_AT", "UPDATED_AT", "TITLE", "DUE_DATE", "PRIORITY", "STATUS")
PAGE = """query($after: String, $order: TaskOrder) {
  tasks(first: 2, after: $after, orderBy: $order) { totalCount nodes { id } }
}"""
FILTERED = """query($d: DateTime) {
  before: tasks(filter: {dueBefore: $d}) { totalCount }
  after: tasks(filter: {dueAfter: $d}) { totalCount }
}"""
CREATE = "mutation($d: DateTime) { createTask(input: {title: \"due\", dueDate: $d}) { dueDate } }"
OPERATIONS = ["{ me { id } }", PAGE, FILTERED, CREATE, "query Named { __typename }",
              "{ ...F } fragment F on Query { me { id } }"]

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                  max_size=4),
    max_leaves=12)
BODIES = JSON | st.fixed_dictionaries({}, optional={
    "query": st.sampled_from(OPERATIONS) | JSON,
    "variables": st.dictionaries(st.sampled_from(["after", "order", "d", "x"]), JSON) | JSON,
    "operationName": st.sampled_from(["Named", ""]) | JSON,
    "extensions": JSON,
})
TOKENS = ["{", "}", "(", ")", "[", "]", ":", "=", "!", "...", "$v", "@skip", "@include", "if",
          "true", "1", "2147483648", '"x"', "me", "id", "task", "tasks", "first", "nodes",
          "after", "query", "mutation", "fragment", "F", "G", "on", "Query", "Viewer", "Task",
          "__typename", "__schema", "types", "name", "a:", "#", "\n", "\"\"\"", "\\u0000"]
QUERIES = st.text() | st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join)


def assert_result_or_coded_errors(response: httpx.Response) -> set[str]:
    """The answer is a result, or errors each with a documented code; returns the codes."""
    assert response.status_code in (200, 400, 413), response.text
    body = response.json()
    assert set(body) <= {"data", "errors"} and body, body
    codes = {error["extensions"]["code"] for error in body.get("errors", [])}
    assert codes <= DOCUMENTED_CODES, body
    return codes


@pytest.mark.parametrize("content", [
    b'"x"', b"null", b"1", b"[]", b"[" * 100_000 + b"]" * 100_000, b'{"query": NaN}',
    b'{"query": "\\ud800"}', b'{"query": "{ me { id } }"} []',
])
async def test_a_body_that_is_not_a_json_object_is_a_400(client: httpx.AsyncClient,
                                                         content: bytes):
    response = await client.post("/graphql", content=content, headers={
        **auth(ALICE), "Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    [only] = response.json()["errors"]
    assert only["extensions"] == {"code": "BAD_REQUEST"}


@FIXTURES_ACROSS_EXAMPLES
@given(body=BODIES)
async def test_any_json_body_is_answered_with_a_result_or_a_coded_error(
        client: httpx.AsyncClient, body: Any):
    response = await client.post("/graphql", content=json.dumps(body), headers={
        **auth(ALICE), "Content-Type": "application/json"})
    assert_result_or_coded_errors(response)
    if not isinstance(body, dict):
        assert response.status_code == 400


@FIXTURES_ACROSS_EXAMPLES
@given(query=QUERIES)
async def test_any_query_text_is_answered_with_a_result_or_a_coded_error(
        client: httpx.AsyncClient, query: str):
    assert_result_or_coded_errors(await gql(client, ALICE, query))


# --- generated date-times and cursors ------------------------------------------------------------


@st.composite
def iso_date_times(draw: st.DrawFn) -> str:
    """An ISO 8601 date-time with any year and any offset under a day (or none)."""
    moment = draw(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
    offset = draw(st.integers(-(24 * 60 - 1), 24 * 60 - 1))
    sign, minutes = ("-" if offset < 0 else "+"), abs(offset)
    suffix = draw(st.sampled_from(["Z", "", f"{sign}{minutes // 60:02}:{minutes % 60:02}"]))
    return moment.isoformat() + suffix


DATE_TIMES = iso_date_times() | st.text(max_size=40)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


ODD_VALUES = JSON | st.integers(min_value=-(2**70), max_value=2**70) | st.sampled_from([
    "2030-13-45", "2030-01-01\x00", "\x00", "a\x00b", 2**31, 2**63, -1, 3, True])


@st.composite
def cursors(draw: st.DrawFn) -> tuple[str, str]:
    """A cursor and the ordering it is sent with: well-formed holding any value, or garbage."""
    field = draw(st.sampled_from(ORDER_FIELDS))
    plausible = {"TITLE": st.text(), "PRIORITY": st.integers(-3, 5),
                 "STATUS": st.integers(-3, 5)}.get(field, st.none() | iso_date_times())
    ours = st.tuples(st.just(field.lower()), plausible, st.uuids().map(str))
    forged = st.tuples(st.sampled_from([field.lower(), "title", "x"]), plausible | ODD_VALUES,
                       st.uuids().map(str) | JSON)
    cursor = draw(st.one_of(
        (ours | forged).map(lambda p: _b64(json.dumps(list(p)).encode())),
        st.text(), st.binary().map(_b64), JSON.map(lambda v: _b64(json.dumps(v).encode()))))
    return cursor, field


# --- cursors and date-times through real operations ------------------------------------------


@pytest.fixture
async def some_tasks(client: httpx.AsyncClient) -> None:
    """Tasks to page through, so that every comparison a cursor asks for really runs."""
    for title, due in (("a", "2030-01-01T00:00:00Z"), ("b", None)):
        await gql(client, ALICE, CREATE.replace('"due"', f'"{title}"'), d=due)


@FIXTURES_ACROSS_EXAMPLES
@given(cursor_and_field=cursors())
@example(cursor_and_field=(_b64(b'["title","a\\u0000b","00000000-0000-0000-0000-000000000000"]'),
                           "TITLE"))
@example(cursor_and_field=(_b64(b'["priority",2147483648,"00000000-0000-0000-0000-000000000000"]'),
                           "PRIORITY"))
@example(cursor_and_field=(_b64(b'["status",18446744073709551615,"0"]'), "STATUS"))
@example(cursor_and_field=(_b64(b'["created_at","0001-01-01T00:00:00+01:00",'
                                 b'"00000000-0000-0000-0000-000000000000"]'), "CREATED_AT"))
@example(cursor_and_field=(_b64(b'["due_date","2030-02-30","00000000-0000-0000-0000-0000"]'),
                           "DUE_DATE"))
@example(cursor_and_field=(_b64(b'["created_at","2030-01-01",7]'), "CREATED_AT"))
@example(cursor_and_field=(_b64(b'{"created_at":1,"b":2,"c":3}'), "CREATED_AT"))
async def test_any_cursor_is_a_page_or_a_validation_error(
        client: httpx.AsyncClient, some_tasks: None, cursor_and_field: tuple[str, str]):
    cursor, field = cursor_and_field
    response = await gql(client, ALICE, PAGE, after=cursor, order={"field": field})
    assert response.status_code == 200
    assert assert_result_or_coded_errors(response) <= {"VALIDATION_ERROR"}


def _instant(text: str) -> datetime | None:
    """``text`` as the instant the contract reads it as (naive is UTC), if it is one."""
    try:
        parsed = datetime.fromisoformat(text)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


@FIXTURES_ACROSS_EXAMPLES
@given(text=DATE_TIMES)
@example(text="0001-01-01T00:00:00+01:00")
@example(text="9999-12-31T23:59:59-01:00")
@example(text="0001-01-01T00:00:00-23:59")
@example(text="9999-12-31T23:59:59.999999+23:59")
async def test_any_date_time_filters_or_is_a_validation_error(client: httpx.AsyncClient,
                                                              text: str):
    literal = FILTERED.replace("($d: DateTime)", "").replace("$d", json.dumps(text))
    for response in (await gql(client, ALICE, FILTERED, d=text),
                     await gql(client, ALICE, literal)):
        codes = assert_result_or_coded_errors(response)
        if _instant(text) is None:
            assert codes == {"GRAPHQL_VALIDATION_FAILED"}, response.text
        else:
            assert codes == set(), response.text


@FIXTURES_ACROSS_EXAMPLES
@given(text=DATE_TIMES)
@example(text="0001-01-01T00:00:00+01:00")
@example(text="9999-12-31T23:59:59-01:00")
@example(text="0001-01-01T00:00:00-23:59")
@example(text="9999-12-31T23:59:59.999999+23:59")
async def test_any_due_date_is_stored_as_that_instant_or_is_a_validation_error(
        client: httpx.AsyncClient, text: str):
    response = await gql(client, ALICE, CREATE, d=text)
    codes = assert_result_or_coded_errors(response)
    instant = _instant(text)
    if instant is None:
        assert codes == {"GRAPHQL_VALIDATION_FAILED"}
        return
    assert codes == set(), response.text
    stored = response.json()["data"]["createTask"]["dueDate"]
    assert stored.endswith("Z")
    assert datetime.fromisoformat(stored) == instant

