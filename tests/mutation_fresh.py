"""Mutants of code that runs at import, each checked in a fresh process (after ``mutmut run``).

mutmut switches a mutant on in a process that has already imported the service, so code that
runs at import (the tables, the sort expressions, the field descriptions) keeps its original
form in its runs and every such mutant "survives". For each survivor matching a pattern of the
"Run at import" section of tests/mutation_equivalents.md, this writes the mutant into a copy of
the tree and runs the tests that line names in a new interpreter. Verdicts go to
mutants/fresh.json, which tests/mutation_report.py reads. Run from the repository root.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mutmut.mutation.diff_apply import apply_mutant, find_mutant

from tests.mutation_report import UNKILLED, VERDICTS, results
from tests.mutation_run import justified

WORKERS = 2  # the machine's cores: each test run is a process of its own, in a tree of its own
_NOT_COPIED = shutil.ignore_patterns(".git", ".venv", ".tools", "mutants", "node_modules",
                                     "__pycache__", ".*_cache", ".hypothesis", ".data")


def guarded_survivors() -> dict[str, list[str]]:
    """Surviving mutant -> the tests that guard it, for code that runs at import."""
    rules = [(pattern, re.findall(r"`(tests/[^`]+)`", reason))
             for pattern, kind, reason in justified() if kind == "run at import"]
    found: dict[str, list[str]] = {}
    for statuses in results(with_fresh=False).values():
        for name, status in statuses.items():
            tests = next((t for pattern, t in rules if fnmatch.fnmatchcase(name, pattern)), None)
            if status in UNKILLED and tests:
                found[name] = tests
    return found


def fails(tree: Path, tests: list[str]) -> bool:
    environment = {**os.environ, "TEST_DATABASES": os.environ.get("TEST_DATABASES", "sqlite"),
                   "HYPOTHESIS_PROFILE": "mutation"}
    run = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                          "-p", "no:randomly", *tests], cwd=tree, env=environment,
                         capture_output=True, check=False)
    return run.returncode != 0


def main() -> None:
    survivors = sorted(guarded_survivors().items())
    verdicts: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as scratch:
        trees: queue.Queue[Path] = queue.Queue()
        for number in range(WORKERS):
            tree = Path(scratch) / f"tree{number}"
            shutil.copytree(".", tree, ignore=_NOT_COPIED)
            (tree / "mutants").symlink_to(Path("mutants").resolve())
            trees.put(tree)
        if survivors and fails(tree, sorted({t for _, tests in survivors for t in tests})):
            sys.exit("the tests guarding code run at import fail without any mutant")
        editing = threading.Lock()  # mutmut's lookups read the working directory

        def judge(name: str, tests: list[str]) -> str:
            tree = trees.get()
            with editing, contextlib.chdir(tree):
                source = tree / find_mutant(name).path
                original = source.read_text()
                apply_mutant(name)
            try:
                return "killed" if fails(tree, tests) else "survived"
            finally:
                source.write_text(original)
                trees.put(tree)

        with ThreadPoolExecutor(WORKERS) as pool:
            judged = pool.map(lambda survivor: judge(*survivor), survivors)
            for number, ((name, _), verdict) in enumerate(zip(survivors, judged, strict=True), 1):
                verdicts[name] = verdict
                print(f"{number}/{len(survivors)} {verdict}: {name}", flush=True)
    VERDICTS.write_text(json.dumps(verdicts, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
