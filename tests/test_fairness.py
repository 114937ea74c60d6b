"""No user can starve the others: one connection per request, statements bounded in time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.factory import create_app
from app.settings import Settings
from persistence import tasks as task_statements
from persistence.database import ConnectionAlreadyHeld, Database, PoolLimits
from persistence.errors import DatabaseUnavailable
from persistence.urls import parse_database_url
from tests.graphql_support import data
from tests.support import ALICE, BOB, assert_error, auth, make_task, tasks_url

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared settings with the default cap on requests in flight (conftest lifts it).

    GraphQL's document limits are lifted instead: what is tested here is the database, for
    operations as wide as a client could make them if those limits were set higher.
    """
    default = Settings.model_fields["max_requests_in_flight_per_user"].default
    return settings.model_copy(update={"max_requests_in_flight_per_user": default,
                                       "graphql_max_list_fields": 100,
                                       "graphql_max_cost": 1_000_000})


@dataclass
class Checkouts:
    """Connections of the app's pool checked out right now, and the most at any one time."""

    in_use: int = 0
    peak: int = 0
    total: int = 0


@contextmanager
def counting_checkouts(app: FastAPI) -> Iterator[Checkouts]:
    """Count pool checkouts and checkins while the block runs (one request at a time)."""
    counts = Checkouts()
    engine = app.state.services.db.engine.sync_engine

    def checkout(*_: Any) -> None:
        counts.in_use += 1
        counts.total += 1
        counts.peak = max(counts.peak, counts.in_use)

    def checkin(*_: Any) -> None:
        counts.in_use -= 1

    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)
    try:
        yield counts
    finally:
        event.remove(engine, "checkout", checkout)
        event.remove(engine, "checkin", checkin)


def aliased(count: int, field: str, prefix: str = "a") -> str:
    """``field`` ``count`` times, as ``a0``, ``a1``..."""
    return " ".join(f"{prefix}{n}: {field}" for n in range(count))


# --- one connection per request ---------------------------------------------------------------

async def test_thirty_aliased_searches_hold_one_connection_at_a_time(
        client: httpx.AsyncClient, app: FastAPI):
    for n in range(3):
        await make_task(client, ALICE, title=f"needle {n}", description="hay")
    search = 'tasks(filter: {search: "needle"}) { totalCount nodes { id } }'
    query = "{ " + aliased(30, search) + " }"
    with counting_checkouts(app) as checkouts:
        result = await data(client, ALICE, query)
    assert [result[f"a{n}"]["totalCount"] for n in range(30)] == [3] * 30
    assert checkouts.peak == 1
    assert checkouts.total == 30  # they queued for the one connection, each in its turn


async def test_loaders_counts_and_lists_of_one_operation_hold_one_connection_at_a_time(
        client: httpx.AsyncClient, app: FastAPI):
    ids = [(await make_task(client, ALICE, title=f"t{n}"))["id"] for n in range(10)]
    query = "{ " + " ".join(f't{n}: task(id: "{task_id}") {{ id title }}'
                            for n, task_id in enumerate(ids))
    query += " me { id taskCounts { total pending } } tasks(first: 5) { totalCount } }"
    with counting_checkouts(app) as checkouts:
        result = await data(client, ALICE, query)
    assert [result[f"t{n}"]["title"] for n in range(10)] == [f"t{n}" for n in range(10)]
    assert result["me"]["taskCounts"]["total"] == 10
    assert result["tasks"]["totalCount"] == 10
    assert checkouts.peak == 1
    assert checkouts.total == 3  # one batch of ten ids, one count by status, one page


async def test_mutations_and_their_selections_hold_one_connection_at_a_time(
        client: httpx.AsyncClient, app: FastAPI):
    task = await make_task(client, ALICE, title="change me")
    doomed = await make_task(client, ALICE, title="delete me")
    mutation = f"""mutation {{
      c1: createTask(input: {{title: "one"}}) {{ id version }}
      c2: createTask(input: {{title: "two", completed: true}}) {{ id completed }}
      u: updateTask(id: "{task["id"]}", input: {{priority: HIGH}}) {{ priority version }}
      t: toggleTaskCompleted(id: "{task["id"]}") {{ completed version }}
      s: setTaskCompleted(id: "{task["id"]}", completed: false) {{ completed version }}
      d: deleteTask(id: "{doomed["id"]}")
    }}"""
    with counting_checkouts(app) as checkouts:
        result = await data(client, ALICE, mutation)
    assert result["u"] == {"priority": "HIGH", "version": 2}
    assert result["t"] == {"completed": True, "version": 3}
    assert result["s"] == {"completed": False, "version": 4}
    assert result["d"] == doomed["id"]
    assert checkouts.peak == 1


async def test_a_query_mixing_every_kind_of_field_holds_one_connection_at_a_time(
        client: httpx.AsyncClient, app: FastAPI):
    first = await make_task(client, ALICE, title="needle")
    query = f"""{{
      me {{ taskCounts {{ total }} tasks(first: 3) {{ totalCount }} }}
      {aliased(10, f'task(id: "{first["id"]}") {{ id }}', prefix="g")}
      {aliased(15, 'tasks(filter: {search: "needle"}, first: 100) { nodes { title } }')}
    }}"""
    with counting_checkouts(app) as checkouts:
        result = await data(client, ALICE, query)
    assert result["a14"]["nodes"] == [{"title": "needle"}]
    assert checkouts.peak == 1


async def test_requests_of_different_users_each_take_their_own_connection(
        client: httpx.AsyncClient, app: FastAPI):
    """The per-request turn is per request: other requests are not serialised behind it."""
    await make_task(client, ALICE)
    db: Database = app.state.services.db
    alice, bob = db.for_request(), db.for_request()
    async with alice.read() as connection:
        await connection.execute(text("SELECT 1"))
        if db.engine.dialect.name == "postgresql":  # SQLite has one connection in all
            async with bob.read() as other:
                await other.execute(text("SELECT 1"))
                assert db.connections_in_use() == 2


async def test_waiting_for_another_connection_while_holding_one_fails_fast(app: FastAPI):
    """Holding the request's connection and asking for one more would wait forever."""
    request = app.state.services.db.for_request()
    async with request.read():
        with pytest.raises(ConnectionAlreadyHeld):
            async with request.read():
                pass
        # a task started while holding it (a DataLoader batch, a gathered sibling) is refused
        with pytest.raises(ConnectionAlreadyHeld):
            await asyncio.create_task(_read_once(request))
    await _read_once(request)  # once released, the turn is free again


async def _read_once(request: Any) -> None:
    async with request.read() as connection:
        await connection.execute(text("SELECT 1"))


# --- statement timeouts -----------------------------------------------------------------------

@pytest.fixture
async def quick_timeout(database_url: str) -> AsyncIterator[Database]:
    """A database whose statements may run 0.3 s, with one connection (so it is reused)."""
    database = Database.connect(parse_database_url(database_url),
                                PoolLimits(pool_size=1, max_overflow=0, statement_timeout=0.3))
    yield database
    await database.dispose()


def _slow_statement(database: Database) -> str:
    if database.engine.dialect.name == "postgresql":
        return "SELECT pg_sleep(5)"
    # SQLite has no sleep: count to a billion (tens of seconds), interrupted on its deadline
    return ("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n "
            "WHERE x < 1000000000) SELECT count(*) FROM n")


async def _session_id(database: Database) -> Any:
    query = ("SELECT pg_backend_pid()" if database.engine.dialect.name == "postgresql"
             else "SELECT 1")
    async with database.read() as connection:
        return (await connection.execute(text(query))).scalar_one()


@pytest.mark.parametrize("kind", ["read", "transaction"])
async def test_a_statement_past_the_timeout_is_unavailable_and_the_connection_stays_healthy(
        quick_timeout: Database, kind: str):
    session = await _session_id(quick_timeout)
    with pytest.raises(DatabaseUnavailable):
        async with getattr(quick_timeout, kind)() as connection:
            await connection.execute(text(_slow_statement(quick_timeout)))
    assert quick_timeout.connections_in_use() == 0
    assert await _session_id(quick_timeout) == session  # the same connection, still usable
    async with quick_timeout.transaction() as connection:
        assert (await connection.execute(text("SELECT 2"))).scalar_one() == 2


async def test_postgresql_holds_the_statement_timeout_and_plans_each_statement_for_its_values(
        database_url: str):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server: the deadline is ours (see the test above)")
    database = Database.connect(parse_database_url(database_url), PoolLimits(statement_timeout=2.5))
    try:
        async with database.read() as connection:
            shown = [(await connection.execute(text(f"SHOW {name}"))).scalar_one()
                     for name in ("statement_timeout", "plan_cache_mode")]
    finally:
        await database.dispose()
    assert shown == ["2500ms", "force_custom_plan"]


async def test_behind_pgbouncer_the_driver_still_stops_a_statement_past_the_timeout(
        database_url: str):
    """PgBouncer refuses the server's own statement_timeout: the driver's timeout must hold."""
    target = parse_database_url(database_url, pgbouncer=True)
    limits = PoolLimits(pool_size=1, max_overflow=0, statement_timeout=0.3)
    database = Database.connect(target, limits)
    try:
        with anyio.fail_after(4):  # the slow statement runs 5 s or more
            with pytest.raises(DatabaseUnavailable):
                async with database.read() as connection:
                    await connection.execute(text(_slow_statement(database)))
        assert database.connections_in_use() == 0
    finally:
        await database.dispose()


async def test_a_statement_past_the_timeout_answers_503(settings: Settings, monkeypatch):
    """Through the API: a list that runs too long is the contract's 503, with Retry-After."""
    app = create_app(settings.model_copy(update={"db_statement_timeout_seconds": 0.3}))
    slow = _slow_statement(app.state.services.db)

    async def search(connection: AsyncConnection, *_: Any, **__: Any) -> Any:
        await connection.execute(text(slow))

    monkeypatch.setattr(task_statements, "search", search)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.get(tasks_url(ALICE), headers=auth(ALICE))
            assert_error(response, 503, "SERVICE_UNAVAILABLE")
            assert response.headers["retry-after"] == "5"
            assert app.state.services.db.connections_in_use() == 0
    finally:
        await app.state.services.db.dispose()


# --- requests in flight per user --------------------------------------------------------------

class HeldBodies:
    """Request bodies that stream only once released: their requests stay in flight till then.

    A body is read after authentication, so a request waiting for its body holds its slot.
    """

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.started = 0
        self.all_started = asyncio.Event()
        self.released = asyncio.Event()

    def body(self, content: bytes) -> AsyncIterator[bytes]:
        async def stream() -> AsyncIterator[bytes]:
            self.started += 1
            if self.started == self.expected:
                self.all_started.set()
            await self.released.wait()
            yield content

        return stream()

    async def hold(self, requests: list[Any]) -> list[asyncio.Task[httpx.Response]]:
        """Start ``requests`` (coroutines) and return once each is waiting for its body."""
        started = [asyncio.create_task(request) for request in requests]
        await asyncio.wait_for(self.all_started.wait(), timeout=30)
        return started


JSON = {"Content-Type": "application/json"}
IN_FLIGHT = 8  # the default of MAX_REQUESTS_IN_FLIGHT_PER_USER


def _held_creates(client: httpx.AsyncClient, held: HeldBodies, url: str, user: str = ALICE
                  ) -> list[Any]:
    return [client.post(url, content=held.body(b'{"title": "held"}'),
                        headers={**auth(user), **JSON}) for _ in range(held.expected)]


@pytest.mark.parametrize("url", ["/api/alice-0001/tasks", "/api/tasks", "/api/v1/alice-0001/tasks"])
async def test_a_request_past_the_users_in_flight_cap_is_429_and_others_are_served(
        client: httpx.AsyncClient, app: FastAPI, url: str):
    held = HeldBodies(IN_FLIGHT)
    requests = await held.hold(_held_creates(client, held, url))

    refused = await client.get(url, headers=auth(ALICE))
    assert refused.status_code == 429, refused.text
    assert refused.headers["retry-after"] == "1"
    assert "ratelimit-limit" in refused.headers
    body = refused.json()
    assert body["code"] == "RATE_LIMITED"
    assert body.get("request_id", body.get("details", {}).get("request_id")) == (
        refused.headers["x-request-id"])
    assert (await client.get(url.replace(ALICE, BOB), headers=auth(BOB))).status_code == 200

    held.released.set()
    assert [(await r).status_code for r in requests] == [201] * IN_FLIGHT
    assert app.state.services.in_flight.count(ALICE) == 0
    assert (await client.get(url, headers=auth(ALICE))).status_code == 200


async def test_graphql_past_the_users_in_flight_cap_is_http_429_in_graphql_shape(
        client: httpx.AsyncClient, app: FastAPI):
    held = HeldBodies(IN_FLIGHT)
    operation = b'{"query": "{ me { id } }"}'
    requests = await held.hold([
        client.post("/graphql", content=held.body(operation), headers={**auth(ALICE), **JSON})
        for _ in range(IN_FLIGHT)])

    refused = await client.post("/graphql", json={"query": "{ me { id } }"}, headers=auth(ALICE))
    assert refused.status_code == 429, refused.text
    assert refused.headers["retry-after"] == "1"
    assert refused.json() == {"errors": [
        {"message": "Too many requests", "extensions": {"code": "RATE_LIMITED"}}]}
    other = await client.post("/graphql", json={"query": "{ me { id } }"}, headers=auth(BOB))
    assert other.json() == {"data": {"me": {"id": BOB}}}

    held.released.set()
    assert [(await r).json() for r in requests] == [{"data": {"me": {"id": ALICE}}}] * IN_FLIGHT
    assert app.state.services.in_flight.count(ALICE) == 0


async def test_slots_are_given_back_after_errors(client: httpx.AsyncClient, app: FastAPI):
    held = HeldBodies(IN_FLIGHT)
    requests = await held.hold([
        client.post(f"/api/{ALICE}/tasks", content=held.body(b'{"title": 42}'),
                    headers={**auth(ALICE), **JSON}) for _ in range(IN_FLIGHT)])
    held.released.set()
    assert [(await r).status_code for r in requests] == [400] * IN_FLIGHT
    assert app.state.services.in_flight.count(ALICE) == 0


async def test_slots_are_given_back_when_clients_go_away(client: httpx.AsyncClient,
                                                         app: FastAPI):
    in_flight = app.state.services.in_flight
    held = HeldBodies(IN_FLIGHT)
    requests = await held.hold(_held_creates(client, held, f"/api/{ALICE}/tasks"))
    assert in_flight.count(ALICE) == IN_FLIGHT
    for request in requests:  # the request's task is cancelled mid-body
        request.cancel()
    await asyncio.gather(*requests, return_exceptions=True)
    assert in_flight.count(ALICE) == 0

    # a server tells the app of a disconnect through receive(): the body never comes
    sent: list[dict[str, Any]] = []
    await app(_scope("POST", f"/api/{ALICE}/tasks", auth(ALICE)), _disconnected, _collect(sent))
    assert sent[0]["status"] == 499  # for the logs only: nobody is there to read it
    assert in_flight.count(ALICE) == 0
    assert (await client.get(f"/api/{ALICE}/tasks", headers=auth(ALICE))).status_code == 200


def _scope(method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
            "root_path": "", "server": ("testserver", 80), "client": ("127.0.0.1", 5000),
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}


async def _disconnected() -> dict[str, Any]:
    return {"type": "http.disconnect"}


def _collect(sent: list[dict[str, Any]]) -> Any:
    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    return send
