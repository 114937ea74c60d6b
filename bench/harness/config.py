"""The knobs of a run, all from the environment (bench/README.md lists them)."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness import REPO_DIR
from harness.scenarios import Scenario, parse_scenarios

DEFAULT_SECRET = "bench-secret-not-for-production-0123456789abcdef"


def utc_stamp() -> str:
    """Now in UTC as 20261121T164915Z: names a run's files."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


@dataclass(frozen=True)
class Config:
    """Every knob of one run; ``--smoke`` changes the defaults, not the meaning."""

    smoke: bool
    duration: int
    warmup: int
    conns: int
    high_conns: int
    threads: int
    workers: int
    port: int
    scenarios: tuple[Scenario, ...]
    pg_host: str
    pg_port: int
    pg_user: str
    db: str
    n_users: int
    tasks_per_user: int
    heavy_tasks: int
    n_tokens: int
    pgbench: bool
    pgbench_clients: int
    pgbench_duration: int
    pgbench_protocol: str
    wrk_cpus: str
    wrk_timeout: str
    busy_sample: bool
    pool_size: int
    max_overflow: int
    rate_limit: str
    in_flight_per_user: int
    secret: str
    todo_api: tuple[str, ...]
    ts: str = field(default_factory=utc_stamp)

    @property
    def database_url(self) -> str:
        """The bench database, as the service and pgbench reach it."""
        return f"postgresql://{self.pg_user}@{self.pg_host}:{self.pg_port}/{self.db}"

    @property
    def base_url(self) -> str:
        """Where the service answers."""
        return f"http://127.0.0.1:{self.port}"

    def todo_api_env(self) -> dict[str, str]:
        """The environment of every `todo-api` command of the run: production, these knobs."""
        return {
            **os.environ,
            "APP_ENV": "production",
            "DATABASE_URL": self.database_url,
            "BETTER_AUTH_SECRET": self.secret,
            "RATE_LIMIT": self.rate_limit,
            "RATE_LIMIT_ANONYMOUS": self.rate_limit,
            "MAX_REQUESTS_IN_FLIGHT_PER_USER": str(self.in_flight_per_user),
            "DB_POOL_SIZE": str(self.pool_size),
            "DB_MAX_OVERFLOW": str(self.max_overflow),
            "LOG_LEVEL": "warning",
        }


def load_config(smoke: bool, *, pgbench: bool = True,
                environ: Mapping[str, str] = os.environ) -> Config:
    """The knobs from ``environ``; exits with a message when one is unusable."""

    def number(name: str, default: int) -> int:
        value = environ.get(name, "")
        return int(value) if value.strip() else default

    def text(name: str, default: str) -> str:
        return environ.get(name, default)

    conns = number("CONNS", 10 if smoke else 100)
    high = number("HIGH_CONNS", 0 if smoke else 1000)  # --smoke skips the pair unless given
    duration = number("DURATION", 2 if smoke else 15)
    secret = text("BENCH_SECRET", DEFAULT_SECRET)
    if len(secret) < 32:
        sys.exit("BENCH_SECRET must be at least 32 characters")
    return Config(
        smoke=smoke,
        duration=duration,
        warmup=number("WARMUP", 0 if smoke else 3),
        conns=conns,
        high_conns=high,
        threads=number("THREADS", 2),
        workers=number("WORKERS", 2),
        port=number("PORT", 8000),
        scenarios=parse_scenarios(text("SCENARIOS", ""), conns, high),
        pg_host=text("PGHOST_BENCH", "127.0.0.1"),
        pg_port=number("PGPORT_BENCH", 5432),
        pg_user=text("PGUSER_BENCH", "postgres"),
        db=text("DB_NAME", "todo_bench"),
        n_users=number("N_USERS", 20 if smoke else 1000),
        tasks_per_user=number("TASKS_PER_USER", 5 if smoke else 50),
        heavy_tasks=number("HEAVY_TASKS", 50 if smoke else 1000),
        n_tokens=number("N_TOKENS", 10 if smoke else 300),
        pgbench=pgbench and text("PGBENCH", "1") != "0",
        pgbench_clients=number("PGBENCH_CLIENTS", 4 if smoke else 32),
        pgbench_duration=number("PGBENCH_DURATION", 1 if smoke else duration),
        pgbench_protocol=text("PGBENCH_PROTOCOL", "prepared"),
        wrk_cpus=text("WRK_CPUS", "1"),
        wrk_timeout=text("WRK_TIMEOUT", "10s"),
        busy_sample=text("BUSY_SAMPLE", "0" if smoke else "1") != "0",
        pool_size=number("DB_POOL_SIZE", 20),
        max_overflow=number("DB_MAX_OVERFLOW", 0),
        rate_limit=text("BENCH_RATE_LIMIT", "1000000/minute"),
        in_flight_per_user=number("BENCH_IN_FLIGHT_PER_USER", 10_000),
        secret=secret,
        todo_api=todo_api_command(text("TODO_API", "")),
    )


def todo_api_command(spec: str) -> tuple[str, ...]:
    """TODO_API as a command (paths relative to the checkout), else this venv's todo-api."""
    words = tuple(
        str(REPO_DIR / word) if not word.startswith("/") and (REPO_DIR / word).exists() else word
        for word in shlex.split(spec)
    )
    return words or (str(Path(sys.executable).parent / "todo-api"),)  # run.sh runs us in the venv
