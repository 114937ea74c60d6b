"""The bench database: recreated, migrated by `todo-api migrate`, seeded, cleaned after writes."""

from __future__ import annotations

import subprocess
import time

from harness import BENCH_DIR
from harness.config import Config
from harness.log import log
from harness.run import Run


def psql(cfg: Config, db: str, *args: str, timeout: float = 300) -> str:
    """Run psql on database ``db`` with ``args``; its output, stripped. RuntimeError on failure."""
    argv = ["psql", "-h", cfg.pg_host, "-p", str(cfg.pg_port), "-U", cfg.pg_user, "-XqAt",
            "-v", "ON_ERROR_STOP=1", "-d", db, *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"psql failed: {' '.join(args)}\n{done.stderr.strip()}")
    return done.stdout.strip()


def recreate(cfg: Config) -> None:
    """Drop the bench database (whoever is connected) and create it empty."""
    psql(cfg, "postgres", "-c", f'DROP DATABASE IF EXISTS "{cfg.db}" WITH (FORCE)',
         "-c", f'CREATE DATABASE "{cfg.db}"')
    log(f"recreated database {cfg.db} on {cfg.pg_host}:{cfg.pg_port}")


def migrate(run: Run) -> None:
    """`todo-api migrate` against the bench database (log: migrate.log)."""
    rc, out = run.children.run("migrate", [*run.cfg.todo_api, "migrate"], 300,
                               run.cfg.todo_api_env())
    (run.logdir / "migrate.log").write_text(out)
    if rc != 0:
        raise RuntimeError(f"`todo-api migrate` failed (rc={rc}):\n{out[-3000:]}")
    log("migrated (todo-api migrate)")


def seed(cfg: Config) -> None:
    """bench/seed.sql with the run's numbers of users and tasks (same rows on every run)."""
    started = time.monotonic()
    out = psql(cfg, cfg.db, "-v", f"n_users={cfg.n_users}", "-v",
               f"tasks_per_user={cfg.tasks_per_user}", "-v", f"heavy_tasks={cfg.heavy_tasks}",
               "-f", str(BENCH_DIR / "seed.sql"))
    log(f"{out.splitlines()[-1]} ({time.monotonic() - started:.1f} s)")


def clean_after_writes(cfg: Config) -> None:
    """Drop rows created by the write scenarios, so every scenario sees the seeded data."""
    psql(cfg, cfg.db,
         "-c", "DELETE FROM tasks WHERE title LIKE 'wrk-create%' OR title = 'pgbench-create'",
         "-c", "VACUUM (ANALYZE) tasks")


def max_connections(cfg: Config) -> int:
    """PostgreSQL's max_connections."""
    return int(psql(cfg, "postgres", "-c", "SHOW max_connections"))


def postgres_pids(cfg: Config) -> set[int]:
    """PostgreSQL's backends of the bench database and its background processes; empty if
    PostgreSQL cannot say."""
    try:
        out = psql(cfg, cfg.db, "-c", "SELECT pid FROM pg_stat_activity "
                   "WHERE datname = current_database() OR backend_type <> 'client backend'")
        return {int(pid) for pid in out.split()}
    except (RuntimeError, ValueError, subprocess.SubprocessError):
        return set()
