"""The result: one row per pgbench script and per scenario, printed as a table and as a TSV."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness import REPO_DIR

COLUMNS = (
    "scenario",
    "conns",
    "req_s",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "errors",
    "requests",
    "ceiling_req_s",
    "of_ceiling",
    "busy_before%",
    "others_during%",
    "svc_cpu_ms",
    "pg_cpu_ms",
    "note",
    "error_detail",
)
NUMERIC = range(1, 14)
"""Columns printed right-aligned: conns to pg_cpu_ms."""


@dataclass
class Row:
    """One line of the result (README: what each column means)."""

    scenario: str
    conns: int
    req_s: float | None
    p50: float | None
    p95: float | None
    p99: float | None
    errors: int | str
    """A count, or why there is none: "?" (not reported), "PREFLIGHT_FAIL"."""
    requests: int
    ceiling: float | None = None
    busy: str = "-"
    others: str = "-"
    svc_ms: float | None = None
    pg_ms: float | None = None
    note: str = "-"
    error_detail: str = "-"

    def failed(self, smoke: bool) -> bool:
        """Not measured; with ``smoke`` (CI) also any request that failed."""
        return isinstance(self.errors, str) or (smoke and self.errors != 0)

    def cells(self) -> list[str]:
        """The row's values as the table and the TSV show them, in ``COLUMNS`` order."""
        share = self.req_s / self.ceiling if self.ceiling and self.req_s is not None else None
        return [
            self.scenario,
            str(self.conns),
            _number(self.req_s, ".1f"),
            _number(self.p50, ".2f"),
            _number(self.p95, ".2f"),
            _number(self.p99, ".2f"),
            str(self.errors),
            str(self.requests),
            _number(self.ceiling, ".0f"),
            "-" if share is None else f"{100 * share:.1f}%",
            self.busy,
            self.others,
            _number(self.svc_ms, ".2f"),
            _number(self.pg_ms, ".2f"),
            self.note or "-",
            self.error_detail or "-",
        ]


def _number(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def percentile(sorted_values: list[float], q: float) -> float:
    """The ``q`` quantile (0-1) of a non-empty sorted list, nearest rank below."""
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


def write_tsv(path: Path, rows: list[Row]) -> None:
    """Every column, one line per row, with a header line."""
    lines = [COLUMNS, *(row.cells() for row in rows)]
    path.write_text("".join("\t".join(line) + "\n" for line in lines))


def print_table(rows: list[Row]) -> None:
    """The rows aligned in columns on standard output (error_detail only in the TSV)."""
    columns = list(COLUMNS[:-1])
    table = [row.cells()[:-1] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in table)]) for i, c in enumerate(columns)]

    def line(values: list[str]) -> str:
        cells = (v.rjust(widths[i]) if i in NUMERIC else v.ljust(widths[i])
                 for i, v in enumerate(values))
        return "  ".join(cells).rstrip()

    print(line(columns))
    print("  ".join("-" * w for w in widths))
    for values in table:
        print(line(values))


def git_rev() -> str:
    """The checkout's short revision, "+dirty" with uncommitted changes; "?" without git."""

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(REPO_DIR), *args], capture_output=True,
                              text=True, timeout=10, check=False).stdout.strip()

    try:
        dirty = git("status", "--porcelain", "--untracked-files=no")
        return git("rev-parse", "--short", "HEAD") + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "?"
