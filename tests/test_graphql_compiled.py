"""The compiled completion path answers exactly what graphql-core's generic completion answers.

Hypothesis writes operations over every type a task page is made of (aliases, repeated fields,
fragments, inline fragments, __typename, @skip/@include with variables, edges { node }, task(id:)
for tasks that are the caller's, another user's, missing or malformed) and sends each to the app
and to the same app on Strawberry's own executor: the bodies are byte for byte the same, on
SQLite and on PostgreSQL. A tiny schema then feeds the plan every value it must hand back to the
generic path (nulls in non-null fields, exceptions, awaitables, values of the wrong type, missing
attributes). The bench queries are shown to take the compiled path for every task, and to
leave no reference cycle behind.
"""

from __future__ import annotations

import asyncio
import enum
import gc
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry
from graphql import GraphQLObjectType
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

import schema.schema
from app.factory import create_app
from app.settings import Settings
from schema.execution import CompiledExecutor, ObjectPlan
from tests.graphql_support import data, gql
from tests.support import ALICE, BOB, make_task

pytestmark = pytest.mark.anyio

FIXTURES_ACROSS_EXAMPLES = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
BENCH_QUERIES = Path(__file__).resolve().parents[1] / "bench" / "queries"

# --- operations over the real schema ----------------------------------------------------------

TASK_LEAVES = ("id", "title", "description", "completed", "completedAt", "status", "priority",
               "dueDate", "createdAt", "updatedAt", "version", "__typename")
CONDITIONS = ("", "", "", " @skip(if: $s)", " @include(if: $i)", " @skip(if: true)",
              " @include(if: false)", " @include(if: $s) @skip(if: $i)")
PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor __typename }"
COUNTS = "taskCounts { total pending inProgress completed __typename }"


@st.composite
def task_selections(draw: st.DrawFn, depth: int = 0) -> str:
    """A selection on Task: fields (some aliased, some repeated), fragments, conditions."""
    items = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["field"] * 5 + (["inline", "spread"] if depth < 1 else [])))
        condition = draw(st.sampled_from(CONDITIONS))
        if kind == "field":
            name = draw(st.sampled_from(TASK_LEAVES))
            alias = draw(st.sampled_from(["", f"my_{name.strip('_')}: "]))
            items.append(f"{alias}{name}{condition}")
        elif kind == "inline":
            on = draw(st.sampled_from(["", " on Task"]))
            items.append(f"...{on}{condition} {{ {draw(task_selections(depth + 1))} }}")
        else:
            items.append(f"...TaskBits{condition}")
    return " ".join(items)


def connection(nodes: str, edges: str) -> st.SearchStrategy[str]:
    parts = ["totalCount", f"nodes {{ {nodes} }}", f"edges {{ cursor node {{ {edges} }} }}",
             PAGE_INFO, "__typename", f"again: nodes {{ {nodes} }}"]
    return st.lists(st.sampled_from(parts), min_size=1, max_size=4, unique=True).map(" ".join)


@st.composite
def operations(draw: st.DrawFn) -> tuple[str, dict[str, bool]]:
    """An operation with one to three aliased root fields, and the variables it declares.

    ``TASK_ID_<n>`` stands for the n-th of ``task_ids``.
    """
    roots = []
    for n in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["tasks", "me", "task"]))
        first = draw(st.integers(1, 4))
        page = draw(connection(draw(task_selections()), draw(task_selections())))
        if kind == "tasks":
            roots.append(f"r{n}: tasks(first: {first}) {{ {page} }}")
        elif kind == "me":
            fields = ["id", "email", "name", "__typename", COUNTS,
                      f"tasks(first: {first}) {{ {page} }}"]
            viewer = draw(st.lists(st.sampled_from(fields), min_size=1, max_size=4, unique=True))
            roots.append(f"r{n}: me {{ {' '.join(viewer)} }}")
        else:
            task_id = f"TASK_ID_{draw(st.integers(0, 6))}"
            roots.append(f'r{n}: task(id: "{task_id}") {{ {draw(task_selections())} }}')
    body = " ".join(roots)
    if "...TaskBits" in body:
        body += f" }} fragment TaskBits on Task {{ {draw(task_selections(depth=2))}"
    variables = {name: draw(st.booleans()) for name in ("s", "i") if f"${name}" in body}
    declared = ", ".join(f"${name}: Boolean!" for name in variables)
    return f"query{f'({declared})' if declared else ''} {{ {body} }}", variables


@pytest.fixture
async def reference(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The same app on the same database, completing every value the generic way."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schema.schema, "CompiledExecutor", StrawberryGraphQLCoreExecutionContext)
        app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as client:
        yield client
    await app.state.services.db.dispose()


@pytest.fixture
async def task_ids(client: httpx.AsyncClient) -> list[str]:
    """Alice's tasks with and without their optional fields, Bob's, a missing and a bad id."""
    alices = [
        await make_task(client, ALICE, title="plain"),
        await make_task(client, ALICE, title="full", description="d", priority="high",
                        status="in_progress", due_date="2030-01-31T17:00:00Z"),
        await make_task(client, ALICE, title="done", completed=True, priority="low"),
        await make_task(client, ALICE, title="ünïcode ✓", description="",
                        due_date="2001-02-03T04:05:06+02:00"),
    ]
    bobs = await make_task(client, BOB, title="not yours")
    return [task["id"] for task in alices] + [bobs["id"], str(uuid.uuid4()), "not-a-uuid"]


@FIXTURES_ACROSS_EXAMPLES
@given(operation=operations())
async def test_any_operation_is_answered_as_the_generic_completion_answers_it(
        client: httpx.AsyncClient, reference: httpx.AsyncClient, task_ids: list[str],
        operation: tuple[str, dict[str, bool]]):
    query, variables = operation
    for n, task_id in enumerate(task_ids):
        query = query.replace(f"TASK_ID_{n}", task_id)
    compiled = await gql(client, ALICE, query, **variables)
    generic = await gql(reference, ALICE, query, **variables)
    assert compiled.status_code == generic.status_code == 200, generic.text
    assert compiled.content == generic.content
    assert "data" in generic.json(), generic.text  # the operation ran: it was valid


CONDITIONAL = """query($s: Boolean!, $i: Boolean!) {
  tasks(first: 3) {
    nodes { id title @skip(if: $s) ...Bits @include(if: $i) ... @skip(if: $i) { version } }
    edges { node { ... on Task @include(if: $s) { status priority } dueDate } }
  }
  t: task(id: "TASK_ID_0") { ...Bits __typename @include(if: $s) }
}
fragment Bits on Task { completed @skip(if: $i) createdAt description }"""


async def test_one_document_with_each_value_of_its_conditions_is_answered_generically(
        client: httpx.AsyncClient, reference: httpx.AsyncClient, task_ids: list[str]):
    query = CONDITIONAL.replace("TASK_ID_0", task_ids[1])
    for s, i in [(False, False), (True, False), (False, True), (True, True), (False, False)]:
        compiled = await gql(client, ALICE, query, s=s, i=i)
        generic = await gql(reference, ALICE, query, s=s, i=i)
        assert compiled.status_code == 200
        assert compiled.content == generic.content


# --- the bench queries take the compiled path -------------------------------------------------


@dataclass
class PathCounts:
    planned_objects: int = 0
    task_fields_resolved_generically: int = 0


@contextmanager
def counting_paths() -> Iterator[PathCounts]:
    """How many objects the plans complete, and how many Task fields graphql-core executes."""
    counts = PathCounts()
    complete, execute_field = ObjectPlan.complete, CompiledExecutor.execute_field

    def counted_complete(plan: ObjectPlan, *args: Any) -> dict[str, Any]:
        counts.planned_objects += 1
        return complete(plan, *args)

    def counted_execute_field(executor: CompiledExecutor, parent: GraphQLObjectType,
                              *args: Any) -> Any:
        counts.task_fields_resolved_generically += parent.name == "Task"
        return execute_field(executor, parent, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ObjectPlan, "complete", counted_complete)
        patch.setattr(CompiledExecutor, "execute_field", counted_execute_field)
        yield counts


async def test_the_bench_list_completes_every_task_by_its_plan(client: httpx.AsyncClient):
    for n in range(7):
        await make_task(client, ALICE, title=f"task {n}", description=None if n % 2 else "d")
    with counting_paths() as counts:
        result = await data(client, ALICE, (BENCH_QUERIES / "list.graphql").read_text())
    assert len(result["tasks"]["nodes"]) == 7
    assert counts == PathCounts(planned_objects=7, task_fields_resolved_generically=0)


async def test_the_bench_get10_completes_every_task_by_its_plan(client: httpx.AsyncClient):
    ids = [(await make_task(client, ALICE, title=f"task {n}"))["id"] for n in range(8)]
    ids += [(await make_task(client, BOB))["id"], str(uuid.uuid4())]
    variables = dict(zip("abcdefghij", ids, strict=True))
    with counting_paths() as counts:
        result = await data(client, ALICE, (BENCH_QUERIES / "get10.graphql").read_text(),
                            **variables)
    assert [task and task["title"] for task in result.values()] == [
        *(f"task {n}" for n in range(8)), None, None]
    assert counts == PathCounts(planned_objects=8, task_fields_resolved_generically=0)


REQUEST_MODULES = ("graphql.", "strawberry.", "schema.", "resolvers.", "persistence.",
                   "plumbing.", "starlette.", "fastapi.", "aiodataloader.", "sqlalchemy.")
"""Where the objects of a request come from."""


@contextmanager
def cyclic_garbage() -> Iterator[Counter[str]]:
    """The types of the objects the block left in reference cycles (only the collector frees
    them), by count."""
    kinds: Counter[str] = Counter()
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield kinds
        gc.collect()
        kinds.update(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.collect()  # what was saved is garbage again: free it now
        gc.enable()


async def test_an_operation_leaves_no_reference_cycle_behind(client: httpx.AsyncClient):
    """A cycle would keep the request, its loaders and their rows until a full collection."""
    ids = [(await make_task(client, ALICE, title=f"task {n}"))["id"] for n in range(10)]
    list_query, get10 = ((BENCH_QUERIES / f"{name}.graphql").read_text()
                         for name in ("list", "get10"))
    variables = dict(zip("abcdefghij", ids, strict=True))
    await data(client, ALICE, list_query)  # parsed and validated once, then cached
    await data(client, ALICE, get10, **variables)
    with cyclic_garbage() as garbage:
        await data(client, ALICE, list_query)
        await data(client, ALICE, get10, **variables)
    # (the test's own client, httpx over ASGI, leaves cycles of builtins and its own types)
    assert {kind: n for kind, n in garbage.items() if kind.startswith(REQUEST_MODULES)} == {}


# --- every value the plan hands back ------------------------------------------------------------


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Item:
    text: str
    note: str | None
    count: int
    ratio: float | None
    flag: bool
    colour: Colour
    ident: strawberry.ID
    when: datetime | None


class Later:
    """An awaitable that is not a coroutine (so one never awaited warns of nothing)."""

    def __await__(self) -> Iterator[None]:
        yield from asyncio.sleep(0).__await__()
        return "later"  # type: ignore[misc]


class Failure(Exception):
    """An exception of the application's, which String and ID would write with str()."""


class Missing:
    """No such attribute: Strawberry's default resolver raises AttributeError."""


class Raises:
    """An attribute whose reading raises."""


VALUES: dict[str, Callable[[], object]] = {
    "str": lambda: "text", "empty": lambda: "", "int": lambda: 7, "big": lambda: 2**40,
    "float": lambda: 2.5, "nan": lambda: float("nan"), "true": lambda: True,
    "none": lambda: None, "red": lambda: Colour.RED, "bare": lambda: "red",
    "uuid": lambda: uuid.UUID(int=5), "when": lambda: datetime(2030, 1, 2, tzinfo=UTC),
    "naive": lambda: datetime(2030, 1, 2), "error": lambda: ValueError("as a value"),
    "failure": lambda: Failure("as a value"),
    "awaitable": Later, "dict": lambda: {"a": 1}, "object": object,
    "missing": lambda: Missing, "raises": lambda: Raises,
}


class Row:
    """A source object whose attributes are the drawn values."""

    def __init__(self, values: dict[str, str]) -> None:
        self._values = values
        for name, kind in values.items():
            value = VALUES[kind]()
            if value is not Missing and value is not Raises:
                setattr(self, name, value)

    def __getattr__(self, name: str) -> object:
        if self._values.get(name) == "raises":
            raise RuntimeError(f"reading {name} failed")
        raise AttributeError(name)


class FailedRow(Row, Exception):
    """An exception with every attribute of an item: the generic path raises it."""


class AwaitedRow(Row, Later):
    """An awaitable with every attribute of an item: the generic path awaits it."""


ITEMS: dict[str, Callable[[dict[str, str]], object]] = {
    "row": Row, "none": lambda _: None, "failure": FailedRow, "awaitable": AwaitedRow,
    "text": lambda _: "not an object"}


def tiny_schema(executor: type[StrawberryGraphQLCoreExecutionContext],
                rows: list[tuple[str, dict[str, str]]]) -> strawberry.Schema:
    """A list, a list of nullable items and a single item, each built fresh from ``rows``."""

    def items() -> list[Any]:
        return [ITEMS[kind](values) for kind, values in rows]

    @strawberry.type
    class Query:
        @strawberry.field
        def items(self) -> list[Item]:
            return items()

        @strawberry.field
        def maybe_items(self) -> list[Item | None] | None:
            return items()

        @strawberry.field
        async def item(self) -> Item | None:
            return items()[0] if rows else None  # type: ignore[no-any-return]

    return strawberry.Schema(query=Query, execution_context_class=executor)


WRITABLE = {"text": ["str", "empty"], "note": ["str", "none"], "count": ["int"],
            "ratio": ["float", "int", "none"], "flag": ["true"], "colour": ["red"],
            "ident": ["uuid", "str", "int"], "when": ["when", "naive", "none"]}
"""Values each field's plan writes itself; any other value goes to the generic path."""
FIELDS = tuple(WRITABLE)
ROWS = st.lists(st.tuples(st.sampled_from(["row"] * 4 + list(ITEMS)), st.fixed_dictionaries({
    name: st.sampled_from(writable) | st.sampled_from(list(VALUES))
    for name, writable in WRITABLE.items()})), max_size=4)
ITEM_SELECTIONS = st.lists(st.sampled_from([*FIELDS, "__typename", "again: text"]),
                           min_size=1, max_size=5).map(" ".join)


WRITTEN = {name: writable[0] for name, writable in WRITABLE.items()}


@settings(max_examples=200)
@given(rows=ROWS, selection=ITEM_SELECTIONS, root=st.sampled_from(["items", "maybeItems", "item"]))
@example(rows=[("row", WRITTEN)], selection=" ".join(FIELDS), root="items")
@example(rows=[("row", WRITTEN | {"text": "failure"})], selection="text", root="maybeItems")
@example(rows=[("row", WRITTEN | {"ident": "awaitable"})], selection="ident", root="item")
@example(rows=[("row", WRITTEN | {"count": "none"})], selection="text count", root="maybeItems")
@example(rows=[("row", WRITTEN), ("failure", WRITTEN)], selection="text", root="maybeItems")
@example(rows=[("row", WRITTEN), ("none", WRITTEN)], selection="text", root="items")
def test_values_the_plan_cannot_write_are_answered_as_the_generic_completion_answers_them(
        rows: list[tuple[str, dict[str, str]]], selection: str, root: str):
    query = f"{{ {root} {{ {selection} }} }}"
    compiled, generic = (
        asyncio.run(tiny_schema(executor, rows).execute(query))
        for executor in (CompiledExecutor, StrawberryGraphQLCoreExecutionContext))
    assert json.dumps(compiled.data) == json.dumps(generic.data)  # the same keys in the same order
    assert [e.formatted for e in compiled.errors or []] == [
        e.formatted for e in generic.errors or []]
