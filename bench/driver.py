#!/usr/bin/env python3
"""bench/driver.py -- the benchmark driver behind bench/run.sh (see bench/README.md).

Recreates the bench database, migrates and seeds it, measures the pgbench ceiling
(bench/pgbench/*.sql), starts the service as in production (`todo-api serve`), checks
every scenario once for correctness, drives it with wrk (bench/wrk/bench.lua), stops
everything it started (by process group) and prints one table + writes a TSV.

All knobs come from the environment (see README / `--help`); `--smoke` shrinks everything.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import shutil
import signal
import sys
import time

from harness import BENCH_DIR, database
from harness.config import Config, load_config
from harness.log import log
from harness.measure import measure_scenarios
from harness.pgbench import measure_ceilings
from harness.preflight import preflight
from harness.report import Row, print_table, write_tsv
from harness.run import Run, exit_on_signals
from harness.scenarios import kinds_of
from harness.service import Service
from harness.users import claims_template, mint_users
from harness.wrk import write_poll_tags
from tests.process_groups import port_in_use


def main() -> int:
    """One run. Exit status 0; 1 on a set-up error; 2 when a scenario was not measured or,
    with --smoke, when any request failed."""
    args = parse_args()
    cfg = load_config(args.smoke, pgbench=not args.no_pgbench)
    exit_on_signals()
    results = BENCH_DIR / "results"
    started = time.monotonic()
    run = Run.open(cfg, results / f"logs-{cfg.ts}")
    git = run.write_meta()
    log(f"{'SMOKE ' if cfg.smoke else ''}git={git} WORKERS={cfg.workers} DURATION={cfg.duration}s "
        f"WARMUP={cfg.warmup}s CONNS={cfg.conns} HIGH_CONNS={cfg.high_conns} THREADS={cfg.threads} "
        f"WRK_CPUS='{cfg.wrk_cpus}' PGBENCH_CLIENTS={cfg.pgbench_clients} "
        f"ulimit_n={resource.getrlimit(resource.RLIMIT_NOFILE)[0]} logs={run.logdir}")
    check_host(cfg)

    rows: list[Row] = []
    service = Service(run)
    try:
        benchmark(run, service, rows)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    except RuntimeError as exc:
        log(f"ERROR: {exc}")
        return 1
    finally:
        stop_everything(run, service)
        if rows:
            tsv = results / f"bench-{cfg.ts}.tsv"
            write_tsv(tsv, rows)
            print()
            print(f"results: {tsv}  (git {git}, WORKERS={cfg.workers}, wrk -t{cfg.threads} "
                  f"-d{cfg.duration}s pinned to CPU '{cfg.wrk_cpus or 'none'}', "
                  f"pgbench -c{cfg.pgbench_clients} -j2 -T{cfg.pgbench_duration} "
                  f"-M {cfg.pgbench_protocol}; {time.monotonic() - started:.0f} s in all)")
            print_table(rows)
    if any(row.failed(cfg.smoke) for row in rows):
        log("FAILED: see the errors / note columns")
        return 2
    return 0


def parse_args() -> argparse.Namespace:
    """--smoke, --no-pgbench; --help prints this module's description."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true",
                        help="tiny run for CI: 20 users x 5 tasks, 2 s per scenario, "
                        "10 connections")
    parser.add_argument("--no-pgbench", action="store_true", help="skip the pgbench ceiling")
    return parser.parse_args()


def check_host(cfg: Config) -> None:
    """Exit with a message if a tool is missing or the port is taken; raise the descriptor
    limit for the largest scenario (one descriptor per wrk connection, and the service's)."""
    for tool in ["wrk", "pgbench", "psql"]:
        if not shutil.which(tool):
            sys.exit(f"missing {tool} (apt-get install -y wrk postgresql-client)")
    need = max(c for _, c in cfg.scenarios) + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(need, 65536)), hard))
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if soft < need:
            log(f"WARNING: ulimit -n is {soft}, {need} needed for the largest scenario")
    if port_in_use(cfg.port):
        sys.exit(f"port {cfg.port} is already in use (a stray server?); set PORT=... or stop it")


def benchmark(run: Run, service: Service, rows: list[Row]) -> None:
    """Every step of a run, each row appended to ``rows`` as soon as it is measured."""
    cfg = run.cfg
    database.recreate(cfg)
    warn_if_pool_too_large(cfg)
    database.migrate(run)
    database.seed(cfg)
    tps: dict[str, float] = {}
    if cfg.pgbench:
        tps = measure_ceilings(run, rows)
        database.clean_after_writes(cfg)
    extra, headers = claims_template(run)
    users = mint_users(cfg, run.users_file, extra, headers)
    service.start()
    kinds = kinds_of(cfg.scenarios)
    fails = preflight(cfg, users, kinds)
    if "rest_poll" in kinds:
        write_poll_tags(cfg, users, run.users_file.with_name("poll_tags.txt"))
    database.clean_after_writes(cfg)
    measure_scenarios(run, service, tps, fails, rows)


def warn_if_pool_too_large(cfg: Config) -> None:
    """Warn when the workers' pools together can exceed PostgreSQL's max_connections."""
    pooled = cfg.workers * (cfg.pool_size + cfg.max_overflow)
    most = database.max_connections(cfg)
    if pooled + 5 > most:
        log(f"WARNING: WORKERS x (DB_POOL_SIZE + DB_MAX_OVERFLOW) = {pooled} "
            f"exceeds max_connections={most}")


def stop_everything(run: Run, service: Service) -> None:
    """Stop the service and every other group started, even after an error or Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip this
    if run.children.pid("service") is not None:
        service.stop()
    run.children.stop_all()
    signal.signal(signal.SIGINT, signal.default_int_handler)


if __name__ == "__main__":
    sys.exit(main())
