#!/usr/bin/env bash
# bench/run.sh -- one-command benchmark of the todo service (see bench/README.md).
#
#   bench/run.sh               # full run (~6 min): pgbench ceiling + 8 scenarios @100 + 2 @1000
#   bench/run.sh --smoke       # CI check (< 60 s): 20 users x 5 tasks, 2 s runs, 10 connections
#   DURATION=5 SCENARIOS=rest_list,rest_get,rest_list@1000 WORKERS=3 bench/run.sh
#
# Knobs (env): DURATION WARMUP CONNS HIGH_CONNS THREADS WORKERS SCENARIOS PORT WRK_CPUS
#   WRK_TIMEOUT PGBENCH=0|1 PGBENCH_CLIENTS PGBENCH_DURATION PGBENCH_PROTOCOL DB_POOL_SIZE
#   DB_MAX_OVERFLOW N_USERS TASKS_PER_USER HEAVY_TASKS N_TOKENS DB_NAME BENCH_SECRET TODO_API
# Output: one table on stdout, bench/results/bench-<UTC timestamp>.tsv, logs in bench/results/logs-*/.
# Everything started (service, wrk, pgbench) runs in its own process group and is stopped
# on exit, on error and on Ctrl-C (driver.py).
set -euo pipefail
cd "$(dirname "$0")/.."

# The repository's own environment, as `make` builds it (pinned uv in .tools/, locked .venv/):
# nothing needs to be on PATH beyond python3, make, psql and pgbench.
make --no-print-directory .venv/.synced > /dev/null
PYTHON=.venv/bin/python

case "${1:-}" in
  -h|--help) sed -n '2,14p' "$0"; exec "$PYTHON" bench/driver.py --help ;;
esac

if ! command -v wrk > /dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing wrk (apt-get)" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; } > /dev/null 2>&1 \
      || { echo "apt-get install wrk failed" >&2; exit 1; }
  else
    echo "wrk is missing: sudo apt-get install -y wrk" >&2; exit 1
  fi
fi
for t in pgbench psql; do
  command -v "$t" > /dev/null || { echo "missing $t" >&2; exit 1; }
done

# 1,000 wrk connections + the server's sockets need well over 1,024 descriptors
# (the service inherits this limit from us).
want=65536
cur=$(ulimit -n)
if [ "$cur" != unlimited ] && [ "$cur" -lt "$want" ]; then
  ulimit -n "$want" 2> /dev/null || ulimit -n "$(ulimit -Hn)" 2> /dev/null || true
fi

# exec: Ctrl-C and SIGTERM reach the driver, which stops what it started.
exec "$PYTHON" bench/driver.py "$@"
