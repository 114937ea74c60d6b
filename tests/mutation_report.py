"""Markdown report of the last ``make mutation`` run: kill rate per folder, every survivor's diff.

Reads mutmut's results in mutants/ (run from the repository root, after ``mutmut run``).
A survivor listed in tests/mutation_equivalents.md is counted apart, with its reason, instead of
as a gap in the tests: *equivalent* (no behaviour can tell it from the original) or out of this
run's reach (PostgreSQL only). Survivors of code run at import are counted with the verdicts of
their fresh-process runs (tests/mutation_fresh.py). The functions mutmut does not mutate at all
are listed last. ``--lock`` records the justified survivors instead (tests/mutation_run.py).
"""

from __future__ import annotations

import ast
import json
import sys
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code
from mutmut.utils.file_utils import walk_mutatable_files

from tests.mutation_run import LOCK, fingerprint, justified, kind_of, paths_of_mutants

VERDICTS = Path("mutants/fresh.json")
UNKILLED = ("survived", "no tests", "skipped")


def results(*, with_fresh: bool = True) -> dict[str, dict[str, str]]:
    """Folder -> mutant name -> status; a survivor checked in a fresh process takes its verdict
    there ("killed in a fresh process" or "survived") unless ``with_fresh`` is false."""
    fresh = json.loads(VERDICTS.read_text()) if with_fresh and VERDICTS.exists() else {}
    by_folder: dict[str, dict[str, str]] = defaultdict(dict)
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        for name, exit_code in data.exit_code_by_key.items():
            status = status_by_exit_code[exit_code]
            if status in UNKILLED and name in fresh:
                status = {"killed": "killed in a fresh process"}.get(fresh[name], "survived")
            by_folder[path.parts[0]][name] = status
    return by_folder


def unmutated() -> list[str]:
    """The functions of the mutated folders that mutmut leaves alone: decorated ones (but for
    @staticmethod and @classmethod), with whatever is nested in them."""
    config = tomllib.loads(Path("pyproject.toml").read_text())["tool"]["mutmut"]
    found: list[str] = []
    for folder in config["source_paths"]:
        for path in sorted(Path(folder).glob("*.py")):  # not persistence/migrations/
            functions = [node for node in ast.walk(ast.parse(path.read_text()))
                         if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                         and any(_mutmut_skips(decorator) for decorator in node.decorator_list)]
            found += [f"`{path}:{node.lineno}` `{node.name}`"
                      for node in sorted(functions, key=lambda node: node.lineno)]
    return found


def _mutmut_skips(decorator: ast.expr) -> bool:
    return not (isinstance(decorator, ast.Name) and decorator.id in ("staticmethod", "classmethod"))


def report() -> str:
    rules = justified()
    lines = ["# Mutation testing", "",
             "| folder | mutants | killed by tests | killed in a fresh process | rejected by mypy "
             "| survived | no tests | equivalent | PostgreSQL only | not run | kill rate |",
             "| --- " + "| ---: " * 10 + "|"]
    survivors: list[str] = []
    for folder, statuses in sorted(results().items()):
        counts = Counter(statuses.values())
        kinds = Counter(kind_of(name, rules) for name, status in statuses.items()
                        if status in UNKILLED)
        gaps = sorted(name for name, status in statuses.items() if status in UNKILLED
                      and kind_of(name, rules) in (None, "run at import"))
        by_tests = counts["killed"] + counts["timeout"] + counts["segfault"]
        fresh = counts["killed in a fresh process"]
        by_mypy = counts["caught by type check"]
        decided = by_tests + fresh + by_mypy + len(gaps)
        rate = f"{100 * (by_tests + fresh + by_mypy) / decided:.1f} %" if decided else "-"
        lines.append(f"| {folder}/ | {len(statuses)} | {by_tests} | {fresh} | {by_mypy} | "
                     f"{sum(statuses[n] == 'survived' for n in gaps)} | "
                     f"{sum(statuses[n] == 'no tests' for n in gaps)} | {kinds['equivalent']} | "
                     f"{kinds['postgresql only']} | {counts['not checked']} | {rate} |")
        survivors += gaps
    lines += ["", "Kill rate: mutants killed by a test (a timeout counts; code run at import "
              "is tested in a fresh process) or rejected by mypy, over those plus every "
              "survivor not justified in tests/mutation_equivalents.md. No tests: no test "
              "calls the function in this run. A justified mutant that survived an earlier run "
              "with the same diff (tests/mutation_equivalents.lock) is not run again; it "
              "counts in its column.", "",
              f"## Surviving mutants ({len(survivors)})", ""]
    for name in survivors:
        lines += [f"### `{name}`", "", "```diff", get_diff_for_mutant(name), "```", ""]
    skipped = unmutated()
    lines += [f"## Not mutated ({len(skipped)})", "",
              "mutmut does not mutate decorated functions (it would have to copy them, and "
              "decorators run at import), so no mutant tests these:", ""]
    lines += [f"- {function}" for function in skipped]
    return "\n".join(lines)


def lock() -> None:
    """Records this run's justified survivors with their diffs' fingerprints: later runs leave
    them out for as long as their diffs stay the same (tests/mutation_run.py)."""
    rules = justified()
    paths = paths_of_mutants()
    survivors = sorted(name for statuses in results(with_fresh=False).values()
                       for name, status in statuses.items() if status in UNKILLED
                       and kind_of(name, rules) in ("equivalent", "postgresql only"))
    prints = {name: fingerprint(name, paths[name]) for name in survivors}
    LOCK.write_text(json.dumps(prints, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["--lock"]:
        lock()
    else:
        sys.stdout.write(report() + "\n")
