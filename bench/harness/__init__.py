"""The benchmark harness behind bench/run.sh, bench/noisy_neighbour.py and bench/profile.py.

One module per concern: ``config`` (the knobs), ``scenarios`` (what is measured),
``run`` (one run: knobs, log directory, the processes it started), ``database`` (create,
migrate, seed, clean up after writes), ``users`` (tokens and users.txt), ``service``
(``todo-api serve``), ``pgbench`` (the ceiling), ``wrk`` (load and its parsing), ``cpu``
(CPU accounting from /proc), ``preflight`` (one correct request of every kind), ``measure``
(one scenario, one row) and ``report`` (the table and the TSV). Process groups are started and
stopped by ``tests.process_groups``, which the tests use too.
"""

from __future__ import annotations

from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent.parent
"""bench/: the scripts, seed.sql, pgbench/, wrk/, queries/ and results/."""
REPO_DIR = BENCH_DIR.parent
