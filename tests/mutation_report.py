"""Markdown report of the last ``make mutation`` run: kill rate per folder, every survivor's diff.

Reads mutmut's results in mutants/ (run from the repository root, after ``mutmut run``).
A survivor listed in tests/mutation_equivalents.md is counted apart, with its reason, instead of
as a gap in the tests: *equivalent* (no behaviour can tell it from the original) or *out of
reach* (code mutmut cannot switch a mutant on for, such as declarations run at import, each
with the test that guards it).
"""

from __future__ import annotations

import fnmatch
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code
from mutmut.utils.file_utils import walk_mutatable_files

JUSTIFIED = Path(__file__).parent / "mutation_equivalents.md"
KILLED = ("killed", "timeout", "segfault", "caught by type check")
UNKILLED = ("survived", "no tests")
SECTIONS = {"Equivalent": "equivalent", "Out of reach": "out of reach"}


def justified() -> list[tuple[str, str, str]]:
    """(name or glob pattern, kind, reason) from the ``- `name`: reason`` lines of each section."""
    found: list[tuple[str, str, str]] = []
    kind = ""
    for line in JUSTIFIED.read_text().splitlines():
        if line.startswith("## "):
            kind = next((k for title, k in SECTIONS.items() if line[3:].startswith(title)), "")
        elif match := re.match(r"^- `([^`]+)`: (.+)$", line):
            found.append((match[1], kind, match[2]))
    return found


def kind_of(name: str, rules: list[tuple[str, str, str]]) -> str | None:
    return next((kind for pattern, kind, _ in rules if fnmatch.fnmatchcase(name, pattern)), None)


def results() -> dict[str, dict[str, str]]:
    """Folder -> mutant name -> status."""
    by_folder: dict[str, dict[str, str]] = defaultdict(dict)
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        for name, exit_code in data.exit_code_by_key.items():
            by_folder[path.parts[0]][name] = status_by_exit_code[exit_code]
    return by_folder


def report() -> str:
    rules = justified()
    lines = ["# Mutation testing", "",
             "| folder | mutants | killed by tests | rejected by mypy | survived | no tests | "
             "equivalent | out of reach | not run | kill rate |", "| --- " + "| ---: " * 9 + "|"]
    survivors: list[str] = []
    for folder, statuses in sorted(results().items()):
        counts = Counter(statuses.values())
        kinds = Counter(kind_of(name, rules) for name, status in statuses.items()
                        if status in UNKILLED)
        gaps = sorted(name for name, status in statuses.items()
                      if status in UNKILLED and kind_of(name, rules) is None)
        by_tests = counts["killed"] + counts["timeout"] + counts["segfault"]
        by_mypy = counts["caught by type check"]
        decided = by_tests + by_mypy + len(gaps)
        rate = f"{100 * (by_tests + by_mypy) / decided:.1f} %" if decided else "-"
        lines.append(f"| {folder}/ | {len(statuses)} | {by_tests} | {by_mypy} | "
                     f"{sum(statuses[n] == 'survived' for n in gaps)} | "
                     f"{sum(statuses[n] == 'no tests' for n in gaps)} | {kinds['equivalent']} | "
                     f"{kinds['out of reach']} | {counts['not checked']} | {rate} |")
        survivors += gaps
    lines += ["", "Kill rate: mutants killed by a test (a timeout counts) or rejected by mypy, "
              "over those plus every survivor not justified in tests/mutation_equivalents.md. "
              "No tests: no test calls the function in this run.", "",
              f"## Surviving mutants ({len(survivors)})", ""]
    for name in survivors:
        lines += [f"### `{name}`", "", "```diff", get_diff_for_mutant(name), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(report() + "\n")
