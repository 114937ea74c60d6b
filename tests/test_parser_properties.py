"""Each parser of REST input over the whole space of its input: success or a coded error, no 5xx.

Date-times (any year 1-9999, any offset, any text) in bodies and list filters, If-Match (any
header value), the numeric claims of a token (any JSON value of any size) and X-Request-ID (any
value), through the API on both databases.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import jwt
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.doors import b_url, c_url
from tests.support import ALICE, TEST_SECRET, auth, make_task, tasks_url

pytestmark = pytest.mark.anyio

# One app and one database per test, shared by its examples (each example makes its own task).
SHARED_APP = settings(suppress_health_check=[HealthCheck.function_scoped_fixture,
                                             HealthCheck.too_slow])


@dataclass(frozen=True)
class Door:
    """A REST family as these properties use it."""

    name: str
    collection: str
    invalid: int
    unwrap: Callable[[Any], Any]
    item: Callable[[str], str]

    def error(self, response: httpx.Response) -> tuple[int, str, list[str]]:
        """The status, code and field names of an error answer, whatever the family's shape."""
        body = response.json()
        if self.name == "B":
            return (response.status_code, body["code"],
                    [e["field"] for e in body["details"].get("errors", [])])
        return response.status_code, body["code"], [e["field"] for e in body.get("errors", [])]


DOORS = [
    Door("A", tasks_url(ALICE), 400, lambda b: b, lambda i: tasks_url(ALICE, i)),
    Door("B", b_url(ALICE), 422, lambda b: b["data"]["task"], lambda i: b_url(ALICE, i)),
    Door("C", c_url(), 422, lambda b: b, c_url),
]
LIST_DOORS = [door for door in DOORS if door.name != "B"]  # B's list has no date filters
EVERY_DOOR = pytest.mark.parametrize("door", DOORS, ids=lambda d: d.name)
DUE_FILTERS = ("due_after", "due_before", "due_date_from", "due_date_to")

# --- date-times -------------------------------------------------------------------------------

OFFSETS = st.one_of(st.none(), st.just(UTC),
                    st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(
                        lambda minutes: timezone(timedelta(minutes=minutes))))
LOCAL_TIMES = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59,
                                                                            59, 999_999))
EDGES = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00Z",
         "9999-12-31T23:59:59.999999Z", "0001-01-01T00:59:00+00:59", "9999-12-31T23:00:00-00:59"]
NO_SURROGATES = st.characters(exclude_categories=("Cs",))


@st.composite
def date_times(draw: st.DrawFn) -> str:
    """An ISO 8601 date-time of any year 1-9999, naive, in UTC (Z) or at any whole-minute offset."""
    local = draw(LOCAL_TIMES)
    offset = draw(OFFSETS)
    text = local.replace(tzinfo=offset).isoformat()
    return text.replace("+00:00", "Z") if offset is UTC else text


def instant(text: str) -> datetime | None:
    """The UTC instant ``text`` names, None when it falls outside years 1-9999 in UTC."""
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        return None


def _read(value: str) -> datetime:
    return datetime.fromisoformat(value)


@EVERY_DOOR
@SHARED_APP
@given(due=date_times())
@example(due=EDGES[0])
@example(due=EDGES[1])
@example(due=EDGES[2])
@example(due=EDGES[3])
async def test_any_date_time_in_a_body_is_stored_exactly_or_refused_naming_the_field(
        client: httpx.AsyncClient, door: Door, due: str):
    expected = instant(due)
    response = await client.post(door.collection, json={"title": "due", "due_date": due},
                                 headers=auth(ALICE))
    if expected is None:
        assert door.error(response) == (door.invalid, "VALIDATION_ERROR", ["due_date"])
        return
    assert response.status_code == 201, response.text
    task = door.unwrap(response.json())
    stored = door.unwrap((await client.get(door.item(task["id"]), headers=auth(ALICE))).json())
    assert _read(task["due_date"]) == _read(stored["due_date"]) == expected
    changed = await client.put(door.item(task["id"]), json={"due_date": due},
                               headers=auth(ALICE))
    assert changed.status_code == 200, changed.text


@pytest.mark.parametrize(("due", "message"), [
    (12345, "must be an ISO 8601 date-time string"),
    ("12345", "must be an ISO 8601 date-time string"),
    (EDGES[0], "must fall within the years 1 to 9999 once converted to UTC"),
    (EDGES[1], "must fall within the years 1 to 9999 once converted to UTC"),
])
async def test_a_refused_date_time_says_why_in_bodies_and_filters(
        client: httpx.AsyncClient, due: object, message: str):
    created = await client.post(tasks_url(ALICE), json={"title": "t", "due_date": due},
                                headers=auth(ALICE))
    listed = await client.get(tasks_url(ALICE), params={"due_after": str(due)},
                              headers=auth(ALICE))
    assert created.json()["detail"] == f"due_date: {message}"
    assert listed.json()["detail"] == f"due_after: {message}"


@pytest.mark.usefixtures("server_five_hours_behind_utc")
@pytest.mark.parametrize("due", ["2030-01-31T17:00:00", "2030-01-31T19:00:00+02:00"])
async def test_date_times_are_utc_whatever_the_servers_own_time_zone(client: httpx.AsyncClient,
                                                                     due: str):
    created = await client.post(tasks_url(ALICE), json={"title": "t", "due_date": due},
                                headers=auth(ALICE))
    assert created.json()["due_date"] == "2030-01-31T17:00:00Z"
    listed = await client.get(tasks_url(ALICE), params={"due_after": due, "due_before": due},
                              headers=auth(ALICE))
    assert [task["id"] for task in listed.json()] == [created.json()["id"]]


@EVERY_DOOR
@SHARED_APP
@given(due=st.text(NO_SURROGATES, max_size=40) | st.from_regex(
    r"\A-?[0-9]{1,6}-[0-9]{2}-[0-9]{2}([T ][0-9:.]{0,20}([+-][0-9:]{1,8}|Z)?)?\Z"))
async def test_any_text_as_a_due_date_is_a_date_time_or_a_validation_error(
        client: httpx.AsyncClient, door: Door, due: str):
    task = await make_task(client, ALICE)
    for response in (
            await client.post(door.collection, json={"title": "t", "due_date": due},
                              headers=auth(ALICE)),
            await client.put(door.item(task["id"]), json={"due_date": due}, headers=auth(ALICE))):
        if response.status_code >= 300:
            assert door.error(response) == (door.invalid, "VALIDATION_ERROR", ["due_date"])
        else:
            assert _read(door.unwrap(response.json())["due_date"]) == instant(due)


@pytest.mark.parametrize("door", LIST_DOORS, ids=lambda d: d.name)
@SHARED_APP
@given(name=st.sampled_from(DUE_FILTERS), value=date_times() | st.text(NO_SURROGATES, max_size=30))
@example(name="due_after", value=EDGES[0])
@example(name="due_before", value=EDGES[1])
@example(name="due_date_from", value=EDGES[1])
@example(name="due_date_to", value=EDGES[0])
async def test_any_due_filter_lists_the_tasks_it_names_or_is_refused_naming_the_parameter(
        client: httpx.AsyncClient, door: Door, name: str, value: str):
    response = await client.get(door.collection, params={name: value}, headers=auth(ALICE))
    if response.status_code != 200:
        assert door.error(response) == (door.invalid, "VALIDATION_ERROR", [name])
        if ISO_DATE_TIME.fullmatch(value) and _looks_like_a_date_time(value):
            assert instant(value) is None  # a date-time in the usual form is refused only then
        return
    bound = instant(value) if _looks_like_a_date_time(value) else None
    after = name in ("due_after", "due_date_from")
    for task in response.json():
        due = _read(task["due_date"])
        if bound is not None:
            assert due >= bound if after else due <= bound


ISO_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?")


def _looks_like_a_date_time(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


# --- If-Match ---------------------------------------------------------------------------------

ETAGC = st.text(st.characters(min_codepoint=0x21, max_codepoint=0xFF).filter(
    lambda ch: ch != '"' and ch != "\x7f"), max_size=6)
# Near misses of the tag "1" (each a valid opaque-tag: etagc has no space), and any other.
OPAQUE = st.sampled_from(["1", "01", "001", "2", "11", "+1", "1.0", "1,", ",1", "\uff11",
                          "\u00b9", ""]) | ETAGC


@st.composite
def entity_tag_lists(draw: st.DrawFn) -> tuple[str, bool]:
    """A well-formed If-Match list, and whether it holds the strong tag "1"."""
    tags = draw(st.lists(st.tuples(st.booleans(), OPAQUE), min_size=1, max_size=5))
    separators = draw(st.lists(st.sampled_from([",", ", ", " ,", " , ", ",,", ", ,\t"]),
                               min_size=len(tags), max_size=len(tags)))
    header = "".join(f'{sep if n else ""}{"W/" if weak else ""}"{opaque}"'
                     for n, ((weak, opaque), sep) in enumerate(zip(tags, separators, strict=True)))
    return header, (False, "1") in tags


async def _put_if_match(client: httpx.AsyncClient, value: bytes) -> tuple[int, int]:
    """PUT with ``If-Match: value`` on a task at version 1: the status, then the stored version."""
    task = await make_task(client, ALICE)
    response = await client.put(tasks_url(ALICE, task["id"]), json={"title": "changed"},
                                headers={**auth(ALICE), "If-Match": value})
    stored = (await client.get(tasks_url(ALICE, task["id"]), headers=auth(ALICE))).json()
    if response.status_code == 412:
        assert response.json()["code"] == "PRECONDITION_FAILED"
    return response.status_code, stored["version"]


@SHARED_APP
@given(tags=entity_tag_lists())
async def test_if_match_holds_exactly_when_the_list_has_the_strong_current_tag(
        client: httpx.AsyncClient, tags: tuple[str, bool]):
    header, matches = tags
    status, version = await _put_if_match(client, header.encode())
    assert (status, version) == ((200, 2) if matches else (412, 1)), header


@SHARED_APP
@given(value=st.binary(max_size=40) | st.text(max_size=30).map(
    lambda text: text.encode("utf-8", "surrogatepass")))
@example(value=b'"a,"1"')
@example(value=b'"1" junk')
@example(value=b"*")
@example(value=b' *\t')
async def test_if_match_with_any_value_never_fails_and_never_matches_by_accident(
        client: httpx.AsyncClient, value: bytes):
    status, version = await _put_if_match(client, value)
    assert status in (200, 412)
    text = value.decode("latin-1")
    accepted = text.strip(" \t") == "*" or re.search(r'(?<!W/)"1"', text) is not None
    assert version == (2 if status == 200 else 1)
    assert status == 412 or accepted, value


# --- numeric claims of a token ----------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.text(max_size=10)
    | st.integers() | st.integers(min_value=-(10 ** 400), max_value=10 ** 400)
    | st.floats(allow_nan=True, allow_infinity=True),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=5)
NOW = int(time.time())
VALID = {"exp": NOW + 3600, "nbf": NOW - 60, "iat": NOW - 60}
ABSENT = object()


def _numeric(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


@SHARED_APP
@given(claims=st.fixed_dictionaries({name: st.one_of(st.just(VALID[name]), st.just(ABSENT),
                                                     JSON_VALUES) for name in VALID}))
@example(claims={"exp": 10 ** 400, "nbf": ABSENT, "iat": ABSENT})
@example(claims={"exp": "9999999999", "nbf": ABSENT, "iat": ABSENT})
@example(claims={"exp": VALID["exp"], "nbf": [1], "iat": {"a": 1}})
@example(claims={"exp": math.inf, "nbf": math.nan, "iat": -math.inf})
@example(claims={"exp": True, "nbf": ABSENT, "iat": ABSENT})
async def test_any_numeric_claims_are_401_or_success(client: httpx.AsyncClient,
                                                     claims: dict[str, Any]):
    payload = {"sub": ALICE, **{k: v for k, v in claims.items() if v is not ABSENT}}
    token = jwt.encode(payload, TEST_SECRET, algorithm="HS256")
    for url in (c_url(), tasks_url(ALICE)):
        response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code in (200, 401), response.text
        if response.status_code == 401:
            assert response.json()["code"] in ("UNAUTHENTICATED", "TOKEN_EXPIRED")
        else:
            assert "exp" in payload
            assert all(_numeric(payload[name]) for name in VALID if name in payload), payload
    graphql = await client.post("/graphql", json={"query": "{ me { id } }"},
                                headers={"Authorization": f"Bearer {token}"})
    assert graphql.status_code == response.status_code


# --- X-Request-ID -----------------------------------------------------------------------------

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


@SHARED_APP
@given(value=st.binary(max_size=200) | st.from_regex(r"\A[A-Za-z0-9._:-]{1,140}\Z").map(
    str.encode))
@example(value=b"")
@example(value=b"a" * 128)
@example(value=b"a" * 129)
@example(value=b"\xff\r\n\x00")
async def test_any_request_id_is_echoed_when_acceptable_and_replaced_otherwise(
        client: httpx.AsyncClient, value: bytes):
    response = await client.get(tasks_url(ALICE), headers={**auth(ALICE), "X-Request-ID": value})
    assert response.status_code == 200
    echoed = response.headers["x-request-id"]
    text = value.decode("latin-1")
    if REQUEST_ID.fullmatch(text):
        assert echoed == text
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", echoed), echoed
