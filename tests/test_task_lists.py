"""The list as frontends use it: one call shows every task, errors name the parameter sent.

Frontends load the list once, never page and never read X-Total-Count or Link, so a user with
up to 1,000 tasks must get all of them from a bare GET; the /api/v1 family keeps its own paging.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.doors import assert_envelope_error, b_url, c_url
from tests.support import ALICE, assert_error, auth, make_task, tasks_url

pytestmark = pytest.mark.anyio

MOST = 1_000


@dataclass(frozen=True)
class PlainList:
    """A family whose list answers a JSON array: the primary one, or the one of the token."""

    name: str
    url: str
    invalid: int

    async def get(self, client: httpx.AsyncClient, query: str = "") -> httpx.Response:
        return await client.get(self.url + query, headers=auth(ALICE))


FAMILIES = [PlainList("primary", tasks_url(ALICE), 400), PlainList("token", c_url(), 422)]
EACH = pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)


async def _make_tasks(client: httpx.AsyncClient, count: int) -> set[str]:
    ids: set[str] = set()
    for start in range(0, count, 50):
        made = await asyncio.gather(*(make_task(client, ALICE, title=f"t{n}")
                                      for n in range(start, min(start + 50, count))))
        ids |= {task["id"] for task in made}
    return ids


def _links(response: httpx.Response) -> dict[str, str]:
    """The Link header as {rel: url}."""
    header = response.headers.get("link")
    if header is None:
        return {}
    return {rel: url for url, rel in re.findall(r'<([^>]*)>; rel="([a-z]+)"', header)}


def _path(url: str) -> str:
    return url.removeprefix("http://testserver")


async def test_one_call_lists_up_to_a_thousand_tasks_and_links_the_rest(client):
    ids = await _make_tasks(client, MOST + 1)
    for family in FAMILIES:
        first = await family.get(client)
        assert first.status_code == 200, first.text
        assert len(first.json()) == MOST and first.headers["x-total-count"] == str(MOST + 1)
        links = _links(first)
        assert set(links) == {"next", "last"}, family.name
        assert links["next"] == links["last"] == f"http://testserver{family.url}?offset={MOST}"
        rest = await client.get(_path(links["next"]), headers=auth(ALICE))
        assert len(rest.json()) == 1
        assert _links(rest) == {"first": f"http://testserver{family.url}?offset=0",
                                "prev": f"http://testserver{family.url}?offset=0"}
        assert {t["id"] for t in first.json() + rest.json()} == ids
    one = next(iter(ids))
    assert (await client.delete(tasks_url(ALICE, one), headers=auth(ALICE))).status_code == 204
    for family in FAMILIES:
        every = await family.get(client)
        assert {t["id"] for t in every.json()} == ids - {one}
        assert "link" not in every.headers and every.headers["x-total-count"] == str(MOST)


async def test_the_v1_family_keeps_its_own_pages(client: httpx.AsyncClient):
    await _make_tasks(client, 101)
    listed = (await client.get(b_url(ALICE), headers=auth(ALICE))).json()["data"]
    assert len(listed["tasks"]) == 20
    assert listed["pagination"] == {"total": 101, "limit": 20, "offset": 0, "has_more": True}
    most = (await client.get(b_url(ALICE) + "?limit=100", headers=auth(ALICE))).json()["data"]
    assert len(most["tasks"]) == 100
    too_many = await client.get(b_url(ALICE) + "?limit=101", headers=auth(ALICE))
    assert_envelope_error(too_many, 422, "VALIDATION_ERROR")


@EACH
@pytest.mark.parametrize(("query", "valid"), [
    ("?limit=1", True), (f"?limit={MOST}", True), ("?limit=0", False),
    (f"?limit={MOST + 1}", False)])
async def test_limit_is_one_to_a_thousand(client, family: PlainList, query: str, valid: bool):
    response = await family.get(client, query)
    if valid:
        assert response.status_code == 200
    else:
        body = assert_error(response, family.invalid, "VALIDATION_ERROR")
        assert [e["field"] for e in body["errors"]] == ["limit"]


@EACH
async def test_links_name_first_prev_next_and_last_in_pages(client, family: PlainList):
    await _make_tasks(client, 7)
    url = f"http://testserver{family.url}"
    middle = await family.get(client, "?limit=2&page=2")
    assert _links(middle) == {"first": f"{url}?limit=2&page=1", "prev": f"{url}?limit=2&page=1",
                              "next": f"{url}?limit=2&page=3", "last": f"{url}?limit=2&page=4"}
    last = await family.get(client, "?limit=2&page=4")
    assert len(last.json()) == 1
    assert _links(last) == {"first": f"{url}?limit=2&page=1", "prev": f"{url}?limit=2&page=3"}
    first = await family.get(client, "?limit=2&page=1")
    assert set(_links(first)) == {"next", "last"}


@EACH
async def test_links_in_offsets_lead_through_every_task_once(client, family: PlainList):
    ids = await _make_tasks(client, 7)
    response = await family.get(client, "?limit=3&offset=1&sort=title")
    assert _links(response)["last"].endswith("offset=4")  # 1, 4: following next ends there
    assert _links(response)["prev"].endswith("offset=0")
    seen = [t["id"] for t in response.json()]
    while "next" in _links(response):
        response = await client.get(_path(_links(response)["next"]), headers=auth(ALICE))
        seen += [t["id"] for t in response.json()]
    assert len(seen) == 6 and set(seen) < ids
    first = httpx.URL(_links(response)["first"])
    assert (first.path, dict(first.params)) == (
        family.url, {"limit": "3", "offset": "0", "sort": "title"})


@EACH
@pytest.mark.parametrize(("name", "value"), [
    ("q", "a\x00b"), ("search", "a\x00b"), ("q", "x" * 256), ("search", "x" * 256),
    ("due_after", "soon"), ("due_date_from", "soon"),
    ("due_before", "1700000000"), ("due_date_to", "1700000000"),
    ("sort", "colour"), ("status", "done"), ("offset", "-1"), ("page", "0")])
async def test_errors_name_the_parameter_as_sent(client, family: PlainList, name: str,
                                                 value: str):
    response = await client.get(family.url, params={name: value}, headers=auth(ALICE))
    body = assert_error(response, family.invalid, "VALIDATION_ERROR")
    assert [e["field"] for e in body["errors"]] == [name]
    assert body["detail"] == f"{name}: {body['errors'][0]['message']}"


async def test_search_alias_errors_also_name_q_when_both_are_sent(client: httpx.AsyncClient):
    response = await client.get(tasks_url(ALICE), params={"search": "ok", "q": "a\x00"},
                                headers=auth(ALICE))
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert body["errors"] == [{"field": "q", "message": "must not contain NUL characters"}]


@EACH
async def test_a_bare_list_of_a_few_tasks_has_no_link(client, family: PlainList):
    task: dict[str, Any] = await make_task(client, ALICE)
    response = await family.get(client)
    assert response.json() == [task] and "link" not in response.headers
