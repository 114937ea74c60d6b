"""GraphQL document limits, through HTTP on both databases: what is refused, and at what cost.

Work is counted, never timed: the Python calls one request makes (``count_calls``). The hostile
families below include fragments that expand exponentially (which Strawberry's own limiters
walked in full) and fields or fragments that graphql-core's OverlappingFieldsCanBeMerged compares
pairwise (quadratic); here the work per character of the document stays the same however large
it grows, and nothing reaches the database.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from graphql import get_introspection_query, parse, validate

import schema.documents
from app.settings import Settings
from schema.documents import DocumentStore
from schema.router import EXAMPLE_QUERY
from schema.schema import schema as exported_schema
from tests.graphql_support import Served, count_calls, count_statements, data, error, gql, serving
from tests.support import ALICE, auth

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parent.parent
Serve = Callable[..., AbstractAsyncContextManager[Served]]
VALIDATION_FAILED = {"code": "GRAPHQL_VALIDATION_FAILED"}
UNLIMITED_TEXT = {"graphql_max_tokens": 100_000, "graphql_max_query_length": 1024 * 1024}


@pytest.fixture
def serve(settings: Settings) -> Serve:
    def serve_with(**changes: object) -> AbstractAsyncContextManager[Served]:
        return serving(settings, **changes)
    return serve_with


# --- hostile families: each builds a document from a size n ------------------------------------

def doubling_chain(n: int) -> str:
    """``F{i}`` spreads ``F{i-1}`` twice: 2^n fields once expanded."""
    return f"{{ ...F{n} }} fragment F0 on Query {{ __typename }} " + " ".join(
        f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, n + 1))


def inline_doubling_chain(n: int) -> str:
    return f"{{ ...F{n} }} fragment F0 on Query {{ __typename }} " + " ".join(
        f"fragment F{i} on Query {{ ... on Query {{ ...F{i - 1} }} ... {{ ...F{i - 1} }} }}"
        for i in range(1, n + 1))


def task_doubling_chain(n: int) -> str:
    """The doubling chain on Task, inside ``tasks { nodes }``."""
    return f"{{ tasks {{ nodes {{ ...T{n} }} }} }} fragment T0 on Task {{ id }} " + " ".join(
        f"fragment T{i} on Task {{ ...T{i - 1} ...T{i - 1} }}" for i in range(1, n + 1))


def wide_fan_out(n: int) -> str:
    """Each fragment spreads the five before it."""
    return f"{{ ...F{n} }} fragment F0 on Query {{ __typename }} " + " ".join(
        f"fragment F{i} on Query {{ "
        + " ".join(f"...F{j}" for j in range(max(0, i - 5), i)) + " }"
        for i in range(1, n + 1))


def introspection_chain(n: int) -> str:
    return (f"{{ __schema {{ types {{ ...T{n} }} }} }} fragment T0 on __Type {{ name }} "
            + " ".join(f"fragment T{i} on __Type {{ ofType {{ ...T{i - 1} }} "
                       f"ofType {{ ...T{i - 1} }} }}" for i in range(1, n + 1)))


def same_response_key(n: int) -> str:
    return "{ " + "me { id } " * n + "}"


def typename_flood(n: int) -> str:
    return "{ " + "__typename " * n + "}"


def same_key_nested(n: int) -> str:
    return "{ me { " + "tasks { nodes { id } } " * n + "} }"


def fragments_at_one_level(n: int) -> str:
    return "{ " + " ".join(f"...F{i}" for i in range(n)) + " } " + " ".join(
        f"fragment F{i} on Query {{ me {{ id }} }}" for i in range(n))


def fragment_chains_side_by_side(n: int) -> str:
    """Two chains spread side by side: graphql-core compares each fragment of one with the other."""
    def chain(name: str) -> str:
        return " ".join(f"fragment {name}{i} on Query {{ me {{ id }} ...{name}{i + 1} }}"
                        for i in range(n)) + f" fragment {name}{n} on Query {{ __typename }}"
    return f"{{ ...A0 ...B0 }} {chain('A')} {chain('B')}"


def operations_sharing_a_fragment(n: int) -> str:
    return (" ".join(f"query Q{i}($id: ID!) {{ ...Shared }}" for i in range(n))
            + " fragment Shared on Query { me { id } tasks { totalCount } task(id: $id) { id } }")


def unused_fragments(n: int) -> str:
    return "{ __typename } " + " ".join(
        f"fragment U{i} on Query {{ me {{ id }} me {{ id }} }}" for i in range(n))


# Each family with a size from which every document of it is refused (sizes double from there).
FAMILIES: dict[str, tuple[Callable[[int], str], int]] = {
    "doubling_chain": (doubling_chain, 16),
    "inline_doubling_chain": (inline_doubling_chain, 16),
    "task_doubling_chain": (task_doubling_chain, 16),
    "wide_fan_out": (wide_fan_out, 16),
    "introspection_chain": (introspection_chain, 16),
    "same_response_key": (same_response_key, 25),
    "typename_flood": (typename_flood, 50),
    "same_key_nested": (same_key_nested, 25),
    "fragments_at_one_level": (fragments_at_one_level, 25),
    "fragment_chains_side_by_side": (fragment_chains_side_by_side, 16),
    "operations_sharing_a_fragment": (operations_sharing_a_fragment, 200),
    "unused_fragments": (unused_fragments, 250),
}


async def _refused_work(app: FastAPI, client: httpx.AsyncClient, document: str) -> int:
    """The calls it takes to refuse ``document``, which must not reach the database."""
    with count_statements(app) as statements, count_calls() as calls:
        response = await gql(client, ALICE, document)
    body = response.json()
    assert response.status_code == 200, response.text
    assert body["data"] is None
    assert [e["extensions"] for e in body["errors"]] == [VALIDATION_FAILED] * len(body["errors"])
    assert statements == []
    return calls[0]


@pytest.mark.parametrize("family", FAMILIES)
async def test_work_per_character_stays_the_same_as_documents_grow(serve: Serve, family: str):
    build, smallest = FAMILIES[family]
    documents = [build(smallest * 2**step) for step in range(4)]
    async with serve(**UNLIMITED_TEXT) as (app, client):
        await gql(client, ALICE, "{ __typename }")  # first-request set-up is not the document's
        works = [await _refused_work(app, client, d) for d in documents]
    sizes = [len(d) for d in documents]
    per_character = [(works[i + 1] - works[i]) / (sizes[i + 1] - sizes[i]) for i in range(3)]
    assert max(per_character) <= 1.2 * min(per_character), list(zip(sizes, works, strict=True))


def test_graphql_core_alone_is_quadratic_in_fields_sharing_a_key():
    # Why the fields-per-key limit exists: OverlappingFieldsCanBeMerged compares every pair.
    graphql_schema = exported_schema._schema

    def work(document: str) -> int:
        parsed = parse(document)
        with count_calls() as calls:
            validate(graphql_schema, parsed)
        return calls[0]

    works = [work(same_response_key(n)) for n in (50, 100, 200)]
    assert works[2] - works[1] > 3 * (works[1] - works[0]), works


async def test_twenty_one_doubling_fragments_are_refused_before_anything_runs(client, app):
    document = doubling_chain(21)
    assert len(document.encode()) == 857
    with count_statements(app) as statements:
        response = await gql(client, ALICE, document)
    assert response.status_code == 200
    assert response.json() == {"data": None, "errors": [{
        "message": "6291455 selections found once fragments are expanded. Allowed: 1000",
        "extensions": VALIDATION_FAILED}]}
    assert statements == []


@pytest.mark.parametrize("family", FAMILIES)
async def test_refused_documents_never_reach_graphql_core_rules(
        serve: Serve, monkeypatch: pytest.MonkeyPatch, family: str):
    build, smallest = FAMILIES[family]
    validations: list[object] = []
    monkeypatch.setattr(schema.documents, "validate", lambda *a, **k: validations.append(a))
    async with serve(**UNLIMITED_TEXT) as (_, client):
        assert (await error(client, ALICE, build(smallest)))["extensions"] == VALIDATION_FAILED
    assert validations == []


# --- each limit, with its message -------------------------------------------------------------

async def test_thirty_aliased_searches_are_refused_as_too_many_lists(client, app):
    query = "{ " + " ".join(f'a{n}: tasks(filter: {{search: "x{n}"}}) {{ totalCount }}'
                            for n in range(30)) + " }"
    with count_statements(app) as statements:
        err = await error(client, ALICE, query)
    assert err["message"] == "'anonymous' selects 30 lists. Allowed: 10"
    assert err["extensions"] == VALIDATION_FAILED
    assert statements == []


async def test_ten_lists_are_allowed(client: httpx.AsyncClient):
    query = "{ " + " ".join(f"a{n}: tasks {{ totalCount }}" for n in range(10)) + " }"
    assert len(await data(client, ALICE, query)) == 10


async def test_cost_multiplies_first_through_nesting_and_counts_lookups(serve: Serve):
    # tasks: 50 (the default) + me.tasks: 30 + task(id:): 1 = 81
    query = """query Dashboard { tasks { totalCount } me { tasks(first: 30) { totalCount } }
                                 task(id: "x") { id } }"""
    async with serve(graphql_max_cost=80) as (app, client):
        with count_statements(app) as statements:
            err = await error(client, ALICE, query)
        assert err["message"] == ("'Dashboard' may return 81 nodes (each list counts its first, "
                                  "multiplied through nesting). Allowed: 80")
        assert err["extensions"] == VALIDATION_FAILED
        assert statements == []
    async with serve(graphql_max_cost=81) as (_, client):
        assert (await data(client, ALICE, query))["task"] is None


async def test_cost_reads_first_from_variables_on_every_request(serve: Serve):
    query = "query($n: Int = 20) { tasks(first: $n) { totalCount } }"
    async with serve(graphql_max_cost=100) as (_, client):
        assert await data(client, ALICE, query, n=100) == {"tasks": {"totalCount": 0}}
        err = await error(client, ALICE, query, n=101)
        assert err["message"].startswith("'anonymous' may return 101 nodes")
        assert await data(client, ALICE, query) == {"tasks": {"totalCount": 0}}  # default 20
        assert (await error(client, ALICE, query, n=2**40))["extensions"] == VALIDATION_FAILED


async def test_the_default_cost_allows_five_thousand_nodes(serve: Serve):
    def lists(count: int) -> str:
        return "{ " + " ".join(f"a{n}: tasks(first: 100) {{ totalCount }}" for n in range(count))\
            + " }"
    async with serve(graphql_max_list_fields=100) as (_, client):
        assert len(await data(client, ALICE, lists(30))) == 30  # 3,000 nodes
    async with serve(graphql_max_list_fields=100, graphql_max_aliases=100) as (_, client):
        err = await error(client, ALICE, lists(51))
        assert err["message"].startswith("'anonymous' may return 5100 nodes")


async def test_selections_are_counted_with_fragments_expanded(serve: Serve):
    query = "{ ...Twice } fragment Twice on Query { ...Once ...Once } fragment Once on Query { " \
            + "me { id } " * 3 + "}"  # 1 spread + 2 * (1 spread + 3 * 2 fields) = 15
    async with serve(graphql_max_selections=14) as (_, client):
        err = await error(client, ALICE, query)
        assert err["message"] == "15 selections found once fragments are expanded. Allowed: 14"
    async with serve(graphql_max_selections=15) as (_, client):
        assert await data(client, ALICE, query) == {"me": {"id": ALICE}}


async def test_depth_and_aliases_count_through_fragments(serve: Serve):
    query = "{ ...Q } fragment Q on Query { me { ...V } } " \
            "fragment V on Viewer { a: tasks { edges { node { id } } } }"  # depth 4, 1 alias
    async with serve(graphql_max_depth=3) as (_, client):
        err = await error(client, ALICE, query)
        assert err["message"] == "'anonymous' exceeds maximum operation depth of 3"
    async with serve(graphql_max_aliases=0) as (_, client):
        assert (await error(client, ALICE, query))["message"] == "1 aliases found. Allowed: 0"
    async with serve(graphql_max_depth=4, graphql_max_aliases=1) as (_, client):
        assert await data(client, ALICE, query) == {"me": {"a": {"edges": []}}}


async def test_more_than_twenty_fields_on_one_response_key_are_refused(client, app):
    assert await data(client, ALICE, "{ " + "me { id } " * 20 + "}") == {"me": {"id": ALICE}}
    with count_statements(app) as statements:
        err = await error(client, ALICE, "{ me { " + "id " * 21 + "} }")
    assert err["message"] == "'id' is selected more than 20 times in one selection set"
    assert err["extensions"] == VALIDATION_FAILED
    assert statements == []


async def test_more_than_twenty_fragments_spread_in_one_place_are_refused(client):
    def spreading(count: int) -> str:
        return "{ " + " ".join(f"...F{i}" for i in range(count)) + " } " + " ".join(
            f"fragment F{i} on Query {{ __typename }}" for i in range(count))
    assert await data(client, ALICE, spreading(20)) == {"__typename": "Query"}
    err = await error(client, ALICE, spreading(21))
    assert err["message"] == "More than 20 fragments are spread into one selection set"


@pytest.mark.parametrize("document", [
    "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A ...A }",
    "{ ...A } fragment A on Query { me { id } ...A }",
    "{ ...A } fragment A on Query { ... on Query { ...A } }",
])
async def test_fragment_cycles_are_reported_by_graphql_core(client, document: str):
    response = await gql(client, ALICE, document)
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["message"].startswith("Cannot spread fragment 'A' within itself")
    assert {e["extensions"]["code"] for e in body["errors"]} == {"GRAPHQL_VALIDATION_FAILED"}


async def test_a_long_chain_of_fragments_does_not_exhaust_the_stack(serve: Serve):
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(5000))
    async with serve(**UNLIMITED_TEXT) as (_, client):
        err = await error(client, ALICE, "{ ...F0 } " + chain + " fragment F5000 on Query { me }")
    assert err["message"] == "5002 selections found once fragments are expanded. Allowed: 1000"


async def test_the_deepest_document_the_parser_accepts_is_measured(client):
    nested = "{ __schema { types { " + "ofType { " * 190 + "name" + " }" * 190 + " } } }"
    assert (await data(client, ALICE, nested))["__schema"]["types"]


async def test_a_query_text_over_the_length_limit_is_413_before_parsing(client, monkeypatch):
    parsed: list[str] = []
    monkeypatch.setattr(schema.documents, "parse", lambda q, **_: parsed.append(q))
    response = await gql(client, ALICE, "{ me { id } }" + " " * 32_768)
    assert response.status_code == 413
    assert response.json() == {"errors": [{"message": "The query is longer than 32768 characters",
                                           "extensions": {"code": "PAYLOAD_TOO_LARGE"}}]}
    assert parsed == []


# --- legitimate operations pass with room to spare ---------------------------------------------

def _legitimate_operations() -> dict[str, str]:
    introspection = get_introspection_query(
        descriptions=True, specified_by_url=True, directive_is_repeatable=True,
        schema_description=True, input_value_deprecation=True)
    operations = {"graphiql example": EXAMPLE_QUERY, "graphiql introspection": introspection,
                  "readme": "{ me { id taskCounts { total completed } } tasks(first: 10) { "
                            "totalCount nodes { id title status } pageInfo { hasNextPage "
                            "endCursor } } }"}
    for path in (ROOT / "bench" / "queries").glob("*.graphql"):
        operations[f"bench {path.stem}"] = path.read_text()
    return operations


@pytest.mark.parametrize("operation", _legitimate_operations().items(), ids=lambda o: o[0])
async def test_legitimate_operations_pass_half_of_every_default_limit(
        serve: Serve, operation: tuple[str, str]):
    _, document = operation
    halves = {"graphql_max_depth": 5, "graphql_max_aliases": 15, "graphql_max_tokens": 1000,
              "graphql_max_query_length": 16_384, "graphql_max_selections": 500,
              "graphql_max_cost": 2500, "graphql_max_list_fields": 5}
    variables = dict.fromkeys("abcdefghij", "00000000-0000-0000-0000-000000000000")
    async with serve(**halves) as (_, client):
        response = await client.post("/graphql", json={"query": document, "variables": {
            **variables, "id": variables["a"]}}, headers=auth(ALICE))
    assert "errors" not in response.json(), response.text


# --- the document cache keeps short query texts only ----------------------------------------

@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every query text the document pipeline parses."""
    seen: list[str] = []
    real = schema.documents.parse

    def counting(query: str, **options: Any) -> Any:
        seen.append(query)
        return real(query, **options)

    monkeypatch.setattr(schema.documents, "parse", counting)
    return seen


async def test_short_documents_are_parsed_once_long_ones_every_time(client, parses: list[str]):
    short, long = "{ me { id } }", "{ me { id } }" + " " * 5000
    for _ in range(3):
        assert await data(client, ALICE, short) == {"me": {"id": ALICE}}
        assert await data(client, ALICE, long) == {"me": {"id": ALICE}}
    assert parses.count(short) == 1
    assert parses.count(long) == 3


def test_the_document_store_is_bounded_in_count_and_in_characters():
    store = DocumentStore(max_documents=3, max_query_length=10, max_total_length=20)
    entry: Any = object()
    store.put("x" * 11, entry)
    assert len(store) == 0
    for text in ("a" * 10, "b" * 5, "c" * 5):
        store.put(text, entry)
    assert store.get("a" * 10) is entry  # now the most recently used
    store.put("d" * 6, entry)  # 26 characters: the least recently used go
    assert (store.get("b" * 5), store.get("c" * 5)) == (None, None)
    assert store.get("a" * 10) is entry and store.get("d" * 6) is entry
    assert store.total_length == 16
    for n in range(10):
        store.put(str(n), entry)
    assert len(store) == 3 and store.total_length <= 20


# --- no suggestions without introspection ---------------------------------------------------

SUGGESTING = [
    ("{ tsk }", {}, "Cannot query field 'tsk' on type 'Query'.",
     " Did you mean 'task' or 'tasks'?"),
    ("query($s: TaskStatus) { tasks(filter: {status: $s}) { totalCount } }", {"s": "PENDIN"},
     "Variable '$s' has invalid value: Value 'PENDIN' does not exist in 'TaskStatus' enum.",
     " Did you mean the enum value 'PENDING'?"),
    ("{ tasks(fist: 1) { totalCount } }", {}, "Unknown argument 'fist' on field 'Query.tasks'.",
     " Did you mean 'first'?"),
]


@pytest.mark.parametrize(("document", "variables", "message", "suggestion"), SUGGESTING)
@pytest.mark.parametrize("introspection", [True, False])
async def test_suggestions_only_when_introspection_is_on(
        serve: Serve, introspection: bool, document: str, variables: dict[str, Any],
        message: str, suggestion: str):
    async with serve(graphql_introspection=introspection) as (_, client):
        err = await error(client, ALICE, document, **variables)
    assert err["message"] == (message + suggestion if introspection else message)
    assert err["extensions"] == VALIDATION_FAILED


async def test_unknown_input_fields_are_not_suggested_without_introspection(serve: Serve):
    query = "mutation($i: CreateTaskInput!) { createTask(input: $i) { id } }"
    async with serve(graphql_introspection=False) as (_, client):
        response = await gql(client, ALICE, query, i={"title": "x", "titel": "x"})
    assert "Did you mean" not in response.text
    assert response.json()["errors"][0]["extensions"] == VALIDATION_FAILED


# --- every error has a code ---------------------------------------------------------------

async def test_an_unknown_fragment_is_a_coded_validation_error(client: httpx.AsyncClient):
    assert await error(client, ALICE, "{ ...Nope }") == {
        "message": "Unknown fragment 'Nope'.", "locations": [{"line": 1, "column": 6}],
        "extensions": VALIDATION_FAILED}


async def test_an_empty_selection_set_answers_without_failing(client: httpx.AsyncClient):
    assert await data(client, ALICE, "{ me { } }") == {"me": {}}


async def test_an_unexpected_failure_before_execution_is_masked_and_coded(
        client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch):
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(schema.documents, "check_limits", broken)
    # A document no other test sends: the process keeps the ones it has checked.
    response = await gql(client, ALICE, "{ unchecked: me { id } }")
    assert response.status_code == 200
    assert response.json() == {"data": None, "errors": [{
        "message": "An unexpected error occurred", "extensions": {"code": "INTERNAL_ERROR"}}]}
