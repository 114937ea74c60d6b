"""Markdown report of the last ``make mutation`` run: kill rate per folder, every survivor's diff.

Reads mutmut's results in mutants/ (run from the repository root, after ``mutmut run``).
A survivor listed in tests/mutation_equivalents.md (no behaviour can tell it apart from the
original) is counted apart, with its reason, instead of as a gap in the tests.
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code
from mutmut.utils.file_utils import walk_mutatable_files

EQUIVALENTS = Path(__file__).parent / "mutation_equivalents.md"
DECIDED = ("killed", "survived", "timeout", "caught by type check", "segfault")


def equivalents() -> dict[str, str]:
    """Mutant name -> why it cannot be told apart, from the ``- `name`: reason`` lines."""
    found = re.findall(r"^- `([^`]+)`: (.+)$", EQUIVALENTS.read_text(), flags=re.MULTILINE)
    return dict(found)


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
    known = equivalents()
    lines = ["# Mutation testing", "",
             "| folder | mutants | killed by tests | rejected by mypy | survived | equivalent | "
             "no tests | timeout | not run | kill rate |", "| --- " + "| ---: " * 9 + "|"]
    survivors: list[str] = []
    for folder, statuses in sorted(results().items()):
        counts = Counter(statuses.values())
        equivalent = sum(1 for n, s in statuses.items() if s == "survived" and n in known)
        decided = sum(counts[status] for status in DECIDED) - equivalent
        by_tests = counts["killed"] + counts["timeout"] + counts["segfault"]
        by_mypy = counts["caught by type check"]
        rate = f"{100 * (by_tests + by_mypy) / decided:.1f} %" if decided else "-"
        lines.append(f"| {folder}/ | {len(statuses)} | {by_tests} | {by_mypy} | "
                     f"{counts['survived'] - equivalent} | {equivalent} | {counts['no tests']} | "
                     f"{counts['timeout']} | {counts['not checked']} | {rate} |")
        survivors += [name for name, status in sorted(statuses.items())
                      if status == "survived" and name not in known]
    lines += ["", "Kill rate: mutants killed by a test (a timeout counts) or rejected by mypy, "
              "over every mutant that was checked, not counting the equivalent ones listed in "
              "tests/mutation_equivalents.md. No tests: no test calls the function.", "",
              f"## Surviving mutants ({len(survivors)})", ""]
    for name in survivors:
        lines += [f"### `{name}`", "", "```diff", get_diff_for_mutant(name), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(report() + "\n")
