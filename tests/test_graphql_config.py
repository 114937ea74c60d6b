"""GraphQL abuse limits, switches and the exported schema, through HTTP on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import jwt
import pytest
from fastapi import FastAPI
from fastapi.routing import APIWebSocketRoute

from app.cli import main
from app.factory import create_app, graphql_endpoint
from app.settings import Settings
from schema.errors import graphql_field
from schema.schema import sdl
from tests.graphql_support import count_statements, data, error, gql
from tests.support import ALICE, TEST_SECRET, auth

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parent.parent
Served = tuple[FastAPI, httpx.AsyncClient]
ClientFactory = Callable[..., AbstractAsyncContextManager[Served]]


@pytest.fixture
def serve(settings: Settings) -> ClientFactory:
    """An app and client built from the test settings with some of them changed."""

    @asynccontextmanager
    async def serving(**changes: object) -> AsyncIterator[Served]:
        app = create_app(settings.model_copy(update=changes))
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                yield app, c
        finally:
            await app.state.services.db.dispose()

    return serving


def _nested(depth: int) -> str:
    return "{ " + "me { " * depth + "id" + " }" * depth + " }"


@pytest.mark.parametrize(("depth", "message", "code"), [
    (20, "'anonymous' exceeds maximum operation depth of 10", "GRAPHQL_VALIDATION_FAILED"),
    (300, "Syntax Error: Document is nested too deeply. Parsing aborted.",
     "GRAPHQL_PARSE_FAILED"),
])
async def test_depth_bomb_is_rejected_without_touching_the_database(
    client: httpx.AsyncClient, app: FastAPI, depth: int, message: str, code: str
):
    with count_statements(app) as statements:
        response = await gql(client, ALICE, _nested(depth))
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert message in [e["message"] for e in body["errors"]]
    assert {e["extensions"]["code"] for e in body["errors"]} == {code}
    assert statements == []


async def test_max_depth_is_configurable(serve: ClientFactory):
    query = "{ me { tasks { edges { node { id } } } } }"  # depth 4 (top-level fields are 0)
    async with serve(graphql_max_depth=3) as (app, client):
        with count_statements(app) as statements:
            err = await error(client, ALICE, query)
        assert err["message"] == "'anonymous' exceeds maximum operation depth of 3"
        assert statements == []
    async with serve(graphql_max_depth=4) as (_, client):
        assert await data(client, ALICE, query) == {"me": {"tasks": {"edges": []}}}


async def test_500_aliases_are_rejected_without_touching_the_database(client, app):
    query = "{ " + " ".join(f"t{n}: task(id: \"{n}\") {{ id }}" for n in range(500)) + " }"
    with count_statements(app) as statements:
        response = await gql(client, ALICE, query)
    body = response.json()
    assert body["data"] is None
    assert [e["message"] for e in body["errors"]] in (
        ["500 aliases found. Allowed: 30"],
        ["Syntax Error: Document contains more than 2000 tokens. Parsing aborted."],
    )
    assert statements == []


async def test_too_many_cheap_aliases_hit_the_alias_limit(client: httpx.AsyncClient):
    query = "{ " + " ".join(f"a{n}: __typename" for n in range(500)) + " }"
    err = await error(client, ALICE, query)
    assert err == {"message": "500 aliases found. Allowed: 30",
                   "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}


async def test_30_aliases_are_allowed(client: httpx.AsyncClient):
    query = "{ " + " ".join(f"a{n}: __typename" for n in range(30)) + " }"
    assert len(await data(client, ALICE, query)) == 30


async def test_too_many_tokens_are_rejected_before_parsing_finishes(client, app):
    query = "{ " + "__typename " * 2100 + "}"
    with count_statements(app) as statements:
        err = await error(client, ALICE, query)
    assert err["message"] == (
        "Syntax Error: Document contains more than 2000 tokens. Parsing aborted.")
    assert err["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"}
    assert statements == []


async def test_limits_come_from_settings(serve: ClientFactory):
    async with serve(graphql_max_aliases=2, graphql_max_tokens=20) as (_, client):
        err = await error(client, ALICE, "{ a: __typename b: __typename c: __typename }")
        assert err["message"] == "3 aliases found. Allowed: 2"
        err = await error(client, ALICE, "{ " + "__typename " * 20 + "}")
        assert err["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"}


async def test_introspection_is_on_in_development(client: httpx.AsyncClient):
    result = await data(client, ALICE, "{ __schema { queryType { name } } }")
    assert result == {"__schema": {"queryType": {"name": "Query"}}}


async def test_introspection_can_be_switched_off(serve: ClientFactory):
    async with serve(graphql_introspection=False) as (_, client):
        err = await error(client, ALICE, '{ __type(name: "Task") { name } }')
        assert err["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
        assert "introspection" in err["message"].lower()
        assert await data(client, ALICE, "{ __typename }") == {"__typename": "Query"}


async def test_graphiql_can_be_switched_off(serve: ClientFactory):
    async with serve(graphql_graphiql=False) as (_, client):
        response = await client.get("/graphql", headers={"Accept": "text/html"})
        assert response.status_code == 404
        assert response.json() == {"errors": [{"message": "Not Found",
                                               "extensions": {"code": "NOT_FOUND"}}]}
        assert (await data(client, ALICE, "{ me { id } }")) == {"me": {"id": ALICE}}


async def test_production_defaults_turn_off_graphiql_and_introspection(database_url: str):
    # Not validated: production refuses SQLite, and these defaults do not depend on the database.
    settings = Settings(app_env="production", database_url=database_url,
                        better_auth_secret=TEST_SECRET, _env_file=None)  # type: ignore[call-arg]
    assert (settings.graphiql_enabled, settings.introspection_enabled) == (False, False)
    app = create_app(settings)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://testserver") as client:
            page = await client.get("/graphql", headers={"Accept": "text/html"})
            assert page.status_code == 404
            response = await gql(client, ALICE, "{ __schema { types { name } } }")
            assert response.json()["data"] is None
            assert {e["extensions"]["code"] for e in response.json()["errors"]} == {
                "GRAPHQL_VALIDATION_FAILED"}
    finally:
        await app.state.services.db.dispose()


async def test_graphiql_in_production_never_hands_out_a_token(database_url: str):
    settings = Settings(app_env="production", database_url=database_url,  # not validated: SQLite
                        better_auth_secret=TEST_SECRET, graphql_graphiql=True,
                        _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://testserver") as client:
            page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert '"headers": null' in page.text
        assert "Bearer ey" not in page.text
    finally:
        await app.state.services.db.dispose()


async def test_graphiql_demo_token_authenticates_the_demo_user(client: httpx.AsyncClient):
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    token = "ey" + page.text.split("Bearer ey", 1)[1].split("\\", 1)[0]
    response = await client.post("/graphql", json={"query": "{ me { id name } }"},
                                 headers={"Authorization": f"Bearer {token}"})
    assert response.json() == {"data": {"me": {"id": "demo-user", "name": "Demo User"}}}
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(token, options={"verify_signature": False})
    assert set(claims) == {"sub", "iat", "exp", "email", "name"}  # as a jose frontend signs
    assert claims["exp"] - claims["iat"] == 24 * 3600


async def test_graphql_is_not_in_the_openapi_document(client: httpx.AsyncClient):
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert "/graphql" not in paths


def test_there_is_no_websocket_endpoint(settings: Settings):
    routes = graphql_endpoint(settings).routes
    assert not any(isinstance(r, APIWebSocketRoute) for r in routes)
    assert sorted(m for r in routes for m in r.methods) == ["GET", "POST"]


async def test_trailing_slash_is_accepted(client: httpx.AsyncClient):
    response = await client.post("/graphql/", json={"query": "{ me { id } }"},
                                 headers=auth(ALICE))
    assert response.json() == {"data": {"me": {"id": ALICE}}}


# --- the exported schema ----------------------------------------------------------------------

def test_schema_graphql_matches_the_code():
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed == sdl(), "schema.graphql drifted: run `uv run todo-api export-schema`"


def test_export_schema_check_fails_on_drift(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "schema.graphql"
    assert main(["export-schema", "--check", "--output", str(target)]) == 1
    assert main(["export-schema", "--output", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == sdl()
    assert main(["export-schema", "--check", "--output", str(target)]) == 0
    target.write_text(sdl().replace("dueDate", "due"), encoding="utf-8")
    assert main(["export-schema", "--check", "--output", str(target)]) == 1


def test_contract_names_are_in_the_schema():
    text = sdl()
    for promise in (
        "me: Viewer!", "task(id: ID!): Task",
        "tasks(filter: TaskFilter, orderBy: TaskOrder, first: Int = 50, after: String): "
        "TaskConnection!",
        "createTask(input: CreateTaskInput!, idempotencyKey: String): Task!",
        "deleteMyData: Boolean!",
        "setTaskCompleted(id: ID!, completed: Boolean! = true", "toggleTaskCompleted(id: ID!",
        "deleteTask(id: ID!", "field: TaskOrderField! = CREATED_AT",
        "direction: OrderDirection! = DESC", "scalar DateTime",
    ):
        assert promise in text


@pytest.mark.parametrize(("field", "expected"), [
    ("due_date", "dueDate"), ("title", "title"), ("body", "input"), ("limit", "first"),
    ("completed_at", "completedAt"),
])
def test_resolver_fields_are_spelled_as_graphql_inputs(field: str, expected: str):
    assert graphql_field(field) == expected
