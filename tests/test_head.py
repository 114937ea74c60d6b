"""Every GET route answers HEAD: the GET's status and headers, and no body."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from persistence.migrate import upgrade
from tests.doors import b_url, c_url
from tests.processes import Service, service
from tests.support import ALICE, BOB, auth, make_task, tasks_url

pytestmark = pytest.mark.anyio

# Headers that differ between any two requests, or whose value counts the request itself.
VOLATILE = {"x-request-id", "ratelimit-remaining", "date"}
HTML = {"Accept": "text/html"}


def _stable(response: httpx.Response, *volatile: str) -> dict[str, str]:
    return {name: value for name, value in response.headers.items()
            if name not in VOLATILE | set(volatile)}


async def _same_as_get(client: httpx.AsyncClient, url: str, *volatile: str,
                       **headers: str) -> httpx.Response:
    got = await client.get(url, headers=headers)
    head = await client.head(url, headers=headers)
    assert head.status_code == got.status_code, url
    assert _stable(head, *volatile) == _stable(got, *volatile), url
    assert head.content == b"" and "content-length" in head.headers, url
    return head


async def test_head_on_every_task_route_of_every_family(client: httpx.AsyncClient):
    task = await make_task(client, ALICE)
    for url in (tasks_url(ALICE), tasks_url(ALICE, task["id"]), c_url(), c_url(task["id"]),
                b_url(ALICE), b_url(ALICE, task["id"]), tasks_url(ALICE) + "?limit=1&q=A"):
        head = await _same_as_get(client, url, **auth(ALICE))
        assert head.status_code == 200
    listed = await client.head(tasks_url(ALICE), headers=auth(ALICE))
    assert listed.headers["x-total-count"] == "1"
    one = await client.head(tasks_url(ALICE, task["id"]), headers=auth(ALICE))
    assert one.headers["etag"] == '"1"'


async def test_head_fails_as_get_fails(client: httpx.AsyncClient):
    task = await make_task(client, BOB)
    for url, headers, status in (
        (tasks_url(ALICE), {}, 401),
        (tasks_url(BOB), auth(ALICE), 403),
        (tasks_url("u" * 256), auth(ALICE), 403),
        (tasks_url(ALICE, task["id"]), auth(ALICE), 404),
        (c_url("not-a-uuid"), auth(ALICE), 404),
        (b_url(ALICE, "not-a-uuid"), auth(ALICE), 422),
        (tasks_url(ALICE) + "?limit=0", auth(ALICE), 400),
        (tasks_url(ALICE, task["id"], "/complete"), auth(ALICE), 405),
        ("/nowhere", {}, 404),
    ):
        head = await _same_as_get(client, url, **headers)
        assert head.status_code == status, url


async def test_head_on_operations_and_developer_pages(client: httpx.AsyncClient):
    for url in ("/health", "/ready", "/openapi.json"):
        assert (await _same_as_get(client, url)).status_code == 200
    # A fresh demo token per page view, and counters that move: same headers but the length.
    docs = await _same_as_get(client, "/docs", "content-length")
    assert docs.headers["content-type"] == "text/html; charset=utf-8"
    graphiql = await _same_as_get(client, "/graphql", "content-length", **HTML)
    assert graphiql.headers["content-type"] == "text/html; charset=utf-8"
    metrics = await _same_as_get(client, "/metrics", "content-length")
    assert metrics.headers["content-type"].startswith("text/plain")


async def test_405_allow_names_head_wherever_get_is_served(client: httpx.AsyncClient):
    response = await client.delete("/health")
    assert (response.status_code, response.headers["allow"]) == (405, "GET, HEAD")
    response = await client.put(tasks_url(ALICE), headers=auth(ALICE))
    assert response.headers["allow"] == "GET, HEAD, POST"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    url = f"sqlite:///{tmp_path_factory.mktemp('head') / 'todo.db'}"
    upgrade(url)
    with service({"DATABASE_URL": url}, tmp_path_factory.mktemp("head-log") / "serve.log") as up:
        yield up


def test_a_real_server_sends_no_body_and_keeps_the_connection(server: Service):
    with httpx.Client(base_url=server.url, headers=auth(ALICE), timeout=10) as http:
        assert http.post(tasks_url(ALICE), json={"title": "x" * 200}).status_code == 201
        for _ in range(3):  # a body after a HEAD would be read as the next answer
            head = http.head(tasks_url(ALICE))
            got = http.get(tasks_url(ALICE))
            assert (head.status_code, got.status_code) == (200, 200)
            assert head.headers["content-length"] == got.headers["content-length"]
            assert len(got.json()) == 1
    access = [line for line in server.log_lines() if line["logger"] == "todo_api.access"]
    assert {(line["method"], line["route"], line["status"]) for line in access} >= {
        ("HEAD", "/api/{user_id}/tasks", 200), ("GET", "/api/{user_id}/tasks", 200)}
    assert not [line for line in server.log_lines() if line["level"] == "error"]
