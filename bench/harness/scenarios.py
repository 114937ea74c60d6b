"""The scenarios: which requests each one sends, and the SQL ceiling it is compared with."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping

from harness import BENCH_DIR

BASE_SCENARIOS = (
    "rest_list",
    "rest_poll",
    "rest_heavy",
    "rest_get",
    "rest_create",
    "rest_update",
    "rest_complete",
    "gql_list",
    "gql_get10",
    "mixed",
)
HIGH_SCENARIOS = ("rest_list", "mixed")
WRITES = frozenset({"rest_create", "rest_update", "rest_complete", "mixed"})
CEILING_SQL = {
    "rest_list": "list",
    "rest_poll": "poll",
    "rest_heavy": "heavy",
    "rest_get": "get",
    "rest_create": "insert",
    "rest_update": "update",
    "rest_complete": "complete",
    "gql_list": "list_count",
    "gql_get10": "get10",
}
"""Request kind -> pgbench script (bench/pgbench/<name>.sql) with the SQL that request needs."""
MIX = {
    "rest_list": 35,
    "rest_get": 25,
    "gql_list": 10,
    "gql_get10": 10,
    "rest_create": 5,
    "rest_update": 10,
    "rest_complete": 5,
}
"""mixed: 80 % reads / 20 % writes (weights, passed to bench.lua as MIX)."""
GQL_VARS = "abcdefghij"
"""The variables of get10.graphql, one task id each."""
HEAVY_PAGE = 100
"""rest_heavy: heavy_user's tasks, this many per page, a random page each time."""

Scenario = tuple[str, int]
"""A scenario name and its number of connections."""


def parse_scenarios(spec: str, conns: int, high: int) -> tuple[Scenario, ...]:
    """SCENARIOS="rest_list,gql_list@1000,mixed" -> ((name, conns), ...).

    Empty or "all": every scenario at ``conns``, then rest_list and mixed at ``high`` (none if 0).
    """
    if not spec.strip() or spec.strip() == "all":
        return (*((s, conns) for s in BASE_SCENARIOS), *((s, high) for s in HIGH_SCENARIOS if high))
    out = []
    for item in spec.replace(" ", "").split(","):
        if not item:
            continue
        name, _, c = item.partition("@")
        if name not in BASE_SCENARIOS:
            sys.exit(f"unknown scenario {name!r}; known: {', '.join(BASE_SCENARIOS)}")
        out.append((name, int(c) if c else conns))
    return tuple(out)


def request_kinds(scenario: str) -> list[str]:
    """The kinds of request a scenario sends: itself, or the mix's."""
    return list(MIX) if scenario == "mixed" else [scenario]


def kinds_of(scenarios: Iterable[Scenario]) -> set[str]:
    """Every kind of request the scenarios send."""
    return {kind for name, _ in scenarios for kind in request_kinds(name)}


def ceiling_scripts(scenarios: Iterable[Scenario]) -> list[str]:
    """The pgbench scripts the scenarios are compared with, sorted."""
    return sorted({CEILING_SQL[kind] for kind in kinds_of(scenarios)})


def ceiling(scenario: str, tps: Mapping[str, float]) -> float | None:
    """The ceiling of a scenario from the scripts' tps; mixed: the weighted harmonic mean."""
    if scenario != "mixed":
        return tps.get(CEILING_SQL[scenario])
    if not all(CEILING_SQL[kind] in tps for kind in MIX):
        return None
    total = sum(MIX.values())
    return 1 / sum(w / total / tps[CEILING_SQL[kind]] for kind, w in MIX.items())


def heavy_pages(heavy_tasks: int) -> int:
    """How many pages of ``HEAVY_PAGE`` heavy_user's tasks fill (at least one)."""
    return max(1, heavy_tasks // HEAVY_PAGE)


def graphql_document(name: str) -> str:
    """bench/queries/<name> without its comment lines (as bench.lua sends it)."""
    text = (BENCH_DIR / "queries" / name).read_text()
    return "\n".join(x for x in text.splitlines() if not x.lstrip().startswith("#"))
