"""``make mutation``'s ``mutmut run``, with each mutant's tests in two steps and without the
mutants this run cannot judge.

- Two steps: first the tests aimed at the mutated function (those that call the fewest of the
  mutated folders' functions), then the rest, only if those pass. Most mutants die in the first
  step, and pytest collects there a few dozen tests instead of the nine hundred that call a
  function every request calls: three seconds of a killed mutant's four.
- Left out (mutmut's "skipped"): mutants of code run at import, which a process that has already
  imported the service cannot judge (tests/mutation_fresh.py judges them each in a new process),
  and mutants justified in tests/mutation_equivalents.md that survived an earlier run with the
  same diff, as recorded by ``python -m tests.mutation_report --lock``. A justified mutant whose
  diff has changed since runs again.

Run as a script (``python -P tests/mutation_run.py run ...``): pytest imports the copy of the
tests in mutants/ as the package ``tests``, which this process must not have imported first.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from mutmut.__main__ import cli
from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.runners.harness import PytestRunner
from mutmut.state import state
from mutmut.utils.file_utils import walk_mutatable_files
from mutmut.workers import isolation

HERE = Path(__file__).parent
JUSTIFIED = HERE / "mutation_equivalents.md"
LOCK = HERE / "mutation_equivalents.lock"
SECTIONS = {"Equivalent": "equivalent", "PostgreSQL only": "postgresql only",
            "Run at import": "run at import"}
SKIPPED = 34  # mutmut's exit code for "skipped"
FIRST_STEP = 50  # tests; a function called by fewer runs them all at once


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


def paths_of_mutants() -> dict[str, Path]:
    """Mutant name -> the source file it mutates (run from the repository root)."""
    found: dict[str, Path] = {}
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        found |= dict.fromkeys(data.exit_code_by_key, path)
    return found


def fingerprint(name: str, path: Path) -> str:
    """The mutant's diff, hashed: it changes when the mutant does (or its number moves)."""
    return hashlib.sha256(get_diff_for_mutant(name, path=path).encode()).hexdigest()[:16]


def locked() -> dict[str, str]:
    return dict(json.loads(LOCK.read_text())) if LOCK.exists() else {}


def focus(breadth: Counter[str], durations: dict[str, float]) -> Callable[[str], tuple[int, float]]:
    """Sort key, the likeliest killers first: a test that calls few of the mutated functions is
    aimed at them (a unit test of the token verifier kills its mutants long before the hundreds
    of HTTP tests that also call it would); the fastest first among tests as focused."""
    return lambda test: (breadth[test].bit_length(), durations.get(test, 0.0))


def in_two_steps(tests: Iterable[str], breadth: Counter[str],
                 durations: dict[str, float]) -> list[list[str]]:
    """The tests aimed at the function first, then the rest."""
    ordered = sorted(tests, key=focus(breadth, durations))
    if len(ordered) <= 2 * FIRST_STEP:
        return [ordered]
    return [ordered[:FIRST_STEP], ordered[FIRST_STEP:]]


class TwoStepRunner(PytestRunner):
    """mutmut's pytest runner, running each mutant's tests in two steps, or none."""

    def warm_up(self) -> None:
        # In mutmut's fork server, once: every mutant's run is forked from here.
        super().warm_up()
        rules = justified()
        paths = paths_of_mutants()
        self.skipped = {name for name in paths if kind_of(name, rules) == "run at import"}
        self.skipped |= {name for name, print_ in locked().items()
                         if name in paths and kind_of(name, rules)
                         and fingerprint(name, paths[name]) == print_}
        stats = state()
        self.breadth = Counter(test for tests in stats.tests_by_mangled_function_name.values()
                               for test in tests)
        self.durations = dict(stats.duration_by_test)

    def run_tests(self, *, mutant_name: str | None, tests: Iterable[str]) -> int:
        if mutant_name is None:  # the run without a mutant, in a runner of its own
            return super().run_tests(mutant_name=mutant_name, tests=tests)
        if mutant_name in self.skipped:
            return SKIPPED
        for step in in_two_steps(tests, self.breadth, self.durations):
            if exit_code := super().run_tests(mutant_name=mutant_name, tests=step):
                return exit_code
        return 0


if __name__ == "__main__":
    isolation.PytestRunner = TwoStepRunner  # type: ignore[attr-defined]
    sys.exit(cli())
