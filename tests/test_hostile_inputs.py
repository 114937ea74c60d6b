"""Hand-picked hostile inputs on surfaces A, B and C: never a 5xx, always the contract's answer.

SQL fragments, absurd numbers, tricky Unicode, bytes that are not UTF-8, NUL, lone surrogates,
deep JSON, duplicate keys, huge headers and long paths. Every rejected write leaves the tasks
table exactly as it was.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from tests.doors import REST_DOORS, Rest, assert_envelope_error, b_url, door_id, make
from tests.support import ALICE, assert_error, auth, tasks_url, token

pytestmark = pytest.mark.anyio

SQL_FRAGMENTS = ["' OR 1=1 --", '"; DROP TABLE tasks; --', "%", "_", "\\",
                 "' UNION SELECT * FROM users --"]
UNICODE = [
    "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 family",  # emoji and ZWJs
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645",  # RTL
    "\u202eevil\u202c override",  # RTL override and pop
    "e\u0301 cafe\u0301 Z\u0351\u0352\u0353",  # combining marks, never normalised
    "zero\u200bwidth\u200cnon\u200djoiner",
    "\ufeffbom inside\ufeff",
    "\U0001d518\U0001d52b\U0001d526 \U0001f600 \U0010fffd",  # astral planes, last code point
]


ALL = pytest.mark.parametrize("surface", REST_DOORS, ids=door_id)


async def _snapshot(app: FastAPI) -> list[tuple[Any, ...]]:
    """Every row of the tasks table, as stored."""
    async with app.state.services.db.transaction() as session:
        rows = await session.execute(text("SELECT * FROM tasks ORDER BY id"))
        return [tuple(row) for row in rows]


# ---------------------------------------------------------------- SQL fragments


@ALL
async def test_sql_fragments_in_every_string_field_are_stored_literally(
        client: httpx.AsyncClient, surface: Rest):
    for fragment in SQL_FRAGMENTS:
        task = await make(surface, client, ALICE, title=f"t {fragment}", description=fragment)
        read = surface.task_of((await client.get(surface.url(ALICE, task["id"]),
                                                headers=auth(ALICE))).json())
        assert (read["title"], read["description"]) == (f"t {fragment}", fragment)
        changed = await client.put(surface.url(ALICE, task["id"]), headers=auth(ALICE),
                                   json={"title": fragment, "description": f"{fragment}!"})
        assert surface.task_of(changed.json())["title"] == fragment
    listed = await client.get(surface.url(ALICE) + "?limit=100", headers=auth(ALICE))
    assert len(surface.tasks_of(listed)) == len(SQL_FRAGMENTS)


@ALL
async def test_sql_fragments_in_every_query_parameter_never_fail(
        client: httpx.AsyncClient, app: FastAPI, surface: Rest):
    await make(surface, client, ALICE, title="100% under_score \\ quote'")
    await make(surface, client, ALICE, title="plain")
    before = await _snapshot(app)
    for name in surface.list_params:
        for fragment in SQL_FRAGMENTS:
            response = await client.get(surface.url(ALICE), params={name: fragment},
                                        headers=auth(ALICE))
            if name in ("q", "search"):
                found = [t["title"] for t in surface.tasks_of(response)]
                expected = ["100% under_score \\ quote'"] if fragment in "%_\\" else []
                assert found == expected, (name, fragment)
            else:
                surface.assert_error(response, surface.validation_status, "VALIDATION_ERROR")
    assert await _snapshot(app) == before


@ALL
async def test_sql_fragments_as_ids_in_paths_are_not_found(client: httpx.AsyncClient,
                                                           surface: Rest):
    status, code = surface.malformed_id
    for fragment in ["' OR 1=1 --", "1;DROP TABLE tasks", "%25", "1 OR 1=1", "*"]:
        response = await client.get(surface.url(ALICE, fragment), headers=auth(ALICE))
        surface.assert_error(response, status, code)


# ---------------------------------------------------------------- numbers


HUGE = ["10" + "0" * 30, "-1", "1e309", "NaN", "inf", "-inf", "1.5", "0x10", "", "1e3", "\u0661"]


@ALL
async def test_absurd_numbers_for_limit_offset_and_page_are_validation_errors(
        client: httpx.AsyncClient, surface: Rest):
    names = [n for n in ("limit", "offset", "page") if n in surface.list_params]
    for name in names:
        for value in HUGE:
            if name == "offset" and value == "":
                continue
            response = await client.get(surface.url(ALICE), params={name: value},
                                        headers=auth(ALICE))
            surface.assert_error(response, surface.validation_status, "VALIDATION_ERROR")


@ALL
async def test_the_largest_offset_answers_an_empty_page(client: httpx.AsyncClient,
                                                        surface: Rest):
    await make(surface, client, ALICE, title="only")
    response = await client.get(surface.url(ALICE), params={"offset": 1_000_000_000},
                                headers=auth(ALICE))
    assert response.status_code == 200, response.text
    assert surface.tasks_of(response) == []


# ---------------------------------------------------------------- Unicode


@ALL
async def test_unicode_round_trips_byte_for_byte_through_every_surface(
        client: httpx.AsyncClient, surface: Rest):
    for sample in UNICODE:
        task = await make(surface, client, ALICE, title=sample, description=sample * 3)
        assert task["title"] == sample
        for reader in REST_DOORS:
            response = await client.get(reader.url(ALICE, task["id"]), headers=auth(ALICE))
            assert response.headers["content-type"].startswith("application/json")
            read = reader.task_of(response.json())
            assert (read["title"], read["description"]) == (sample, sample * 3), reader.name
            assert sample.encode() in response.content  # raw UTF-8, not re-escaped or normalised
    searchable = [n for n in ("q", "search") if n in surface.list_params]
    for name in searchable:
        response = await client.get(surface.url(ALICE), params={name: "\u200d\U0001f467"},
                                    headers=auth(ALICE))
        assert [t["title"] for t in surface.tasks_of(response)] == [UNICODE[0]]


# ---------------------------------------------------------------- bytes that are not text


@ALL
@pytest.mark.parametrize("content", [
    b'{"title": "\xff\xfe"}',  # not UTF-8
    b'{"title": "\xed\xa0\x80"}',  # an encoded surrogate: not UTF-8 either
    b'{"title": "\\ud800"}',  # a lone surrogate, escaped
    b'{"title": "ok", "description": "\\udfff tail"}',
    b'{"title": "nul \\u0000"}',
    b'\x00{"title": "x"}',
    b'{"title": "x"}\x00',
    b'\xef\xbb\xbf{"title": "bom"}',
    "{\"title\": \"latin-1 \xe9\"}".encode("latin-1"),
    b'{"title": NaN}', b'{"title": "x", "due_date": Infinity}',
])
async def test_bodies_that_are_not_valid_text_are_rejected(
        client: httpx.AsyncClient, app: FastAPI, surface: Rest, content: bytes):
    task = await make(surface, client, ALICE, title="keep me")
    before = await _snapshot(app)
    headers = {**auth(ALICE), "Content-Type": "application/json"}
    for method, url in (("POST", surface.url(ALICE)), ("PUT", surface.url(ALICE, task["id"]))):
        response = await client.request(method, url, content=content, headers=headers)
        surface.assert_error(response, surface.validation_status, "VALIDATION_ERROR")
    assert await _snapshot(app) == before


BAD_QUERIES = ["q=%FF", "q=%ED%A0%80", "q=a%00b", "search=%C0%AF", "status=%FF", "sort=%00",
               "limit=%FF", "%FF=1", "offset=1%FF"]


@pytest.mark.parametrize(("surface", "query"), [
    pytest.param(surface, query, id=f"{surface.name}-{query}")
    for surface in REST_DOORS for query in BAD_QUERIES
    if query.split("=")[0] in (*surface.list_params, "%FF")])
async def test_query_strings_that_are_not_valid_text_are_rejected(
        client: httpx.AsyncClient, surface: Rest, query: str):
    response = await client.get(f"{surface.url(ALICE)}?{query}", headers=auth(ALICE))
    surface.assert_error(response, surface.validation_status, "VALIDATION_ERROR")


@ALL
@pytest.mark.parametrize("segment", ["%FF", "%00", "%ED%A0%80", "a%2Fb", "%C0%AE%C0%AE"])
async def test_path_segments_that_are_not_valid_text_are_not_found(
        client: httpx.AsyncClient, surface: Rest, segment: str):
    status, code = surface.malformed_id
    response = await client.get(f"{surface.url(ALICE)}/{segment}", headers=auth(ALICE))
    if segment == "a%2Fb":
        assert response.status_code in (404, 405, status), response.text  # another route shape
        assert response.status_code < 500
        return
    surface.assert_error(response, status, code)


@pytest.mark.parametrize("segment", ["%FF", "%00", "alice-0001%00", "%ED%A0%80"])
async def test_user_ids_in_paths_that_are_not_valid_text_are_forbidden(
        client: httpx.AsyncClient, segment: str):
    for url, check in ((f"/api/{segment}/tasks", assert_error),
                       (f"/api/v1/{segment}/tasks", assert_envelope_error)):
        check(await client.get(url, headers=auth(ALICE)), 403, "FORBIDDEN")


# ---------------------------------------------------------------- JSON shapes


@ALL
@pytest.mark.parametrize("depth", [10_000, 100_000])
async def test_deeply_nested_json_is_a_validation_error(
        client: httpx.AsyncClient, app: FastAPI, surface: Rest, depth: int):
    task = await make(surface, client, ALICE, title="keep me")
    before = await _snapshot(app)
    for nested in (b"[" * depth + b"]" * depth,
                   b'{"title": "x", "extra": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"):
        for method, url in (("POST", surface.url(ALICE)), ("PUT", surface.url(ALICE, task["id"]))):
            response = await client.request(method, url, content=nested, headers={
                **auth(ALICE), "Content-Type": "application/json"})
            assert response.status_code < 500, response.text
            if response.status_code not in (200, 201):
                surface.assert_error(response, surface.validation_status, "VALIDATION_ERROR")
    after = await _snapshot(app)
    assert len(after) - len(before) <= 1  # at most the one nested-but-valid create


@ALL
async def test_duplicate_keys_the_last_one_wins(client: httpx.AsyncClient, surface: Rest):
    # Documented choice: like JSON.parse in the browser, the last occurrence of a key wins.
    content = b'{"title": "first", "title": "second", "priority": "low", "priority": "high"}'
    response = await client.post(surface.url(ALICE), content=content,
                                 headers={**auth(ALICE), "Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    task = surface.task_of(response.json())
    assert (task["title"], task["priority"]) == ("second", "high")


@ALL
async def test_duplicate_keys_cannot_smuggle_an_invalid_value(client: httpx.AsyncClient,
                                                              app: FastAPI, surface: Rest):
    before = await _snapshot(app)
    content = b'{"title": "fine", "title": ""}'
    response = await client.post(surface.url(ALICE), content=content,
                                 headers={**auth(ALICE), "Content-Type": "application/json"})
    surface.assert_error(response, surface.validation_status, "VALIDATION_ERROR")
    assert await _snapshot(app) == before


# ---------------------------------------------------------------- sizes


@ALL
async def test_huge_headers_are_answered_cleanly(client: httpx.AsyncClient, surface: Rest):
    huge = "x" * 256 * 1024
    response = await client.get(surface.url(ALICE), headers={"Authorization": f"Bearer {huge}"})
    body = surface.assert_error(response, 401, "UNAUTHENTICATED")
    assert huge not in json.dumps(body)
    response = await client.get(surface.url(ALICE), headers={**auth(ALICE), "X-Padding": huge,
                                                             "X-Request-ID": huge})
    assert response.status_code == 200
    assert response.headers["x-request-id"] != huge


async def test_user_ids_longer_than_255_characters_are_another_users_403(
        client: httpx.AsyncClient, app: FastAPI):
    long_id = "u" * 256
    before = await _snapshot(app)
    response = await client.post(tasks_url(long_id), json={"title": "x"}, headers=auth(ALICE))
    assert_error(response, 403, "FORBIDDEN")
    response = await client.post(b_url(long_id), json={"title": "x"}, headers=auth(ALICE))
    assert_envelope_error(response, 403, "FORBIDDEN")
    assert_error(await client.get(tasks_url(long_id), headers={
        "Authorization": f"Bearer {token('u' * 255)}"}), 403, "FORBIDDEN")
    assert await _snapshot(app) == before


@ALL
async def test_very_long_paths_are_not_found(client: httpx.AsyncClient, surface: Rest):
    status, code = surface.malformed_id
    response = await client.get(surface.url(ALICE, "x" * 20_000), headers=auth(ALICE))
    surface.assert_error(response, status, code)
    response = await client.get("/api/" + "a/" * 5_000 + "tasks", headers=auth(ALICE))
    assert_error(response, 404, "NOT_FOUND")
