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
import datetime as dt
import hashlib
import json
import os
import random
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import jwt

Env = dict[str, str]
Row = dict[str, Any]  # one line of the result table

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

BASE_SCENARIOS = [
    "rest_list",
    "rest_poll",
    "rest_heavy",
    "rest_get",
    "rest_create",
    "rest_update",
    "rest_complete",
    "gql_list",
    "gql_get10",
    "mixed",
]
HIGH_SCENARIOS = ["rest_list", "mixed"]
WRITES = {"rest_create", "rest_update", "rest_complete", "mixed"}
# scenario -> pgbench script (bench/pgbench/<name>.sql) with the SQL that request needs
CEILING_SQL = {
    "rest_list": "list",
    "rest_poll": "poll",
    "rest_heavy": "heavy",
    "rest_get": "get",
    "rest_create": "insert",
    "rest_update": "update",
    "rest_complete": "complete",
    "gql_list": "list_count",
    "gql_get10": "get10",
}
# mixed: 80 % reads / 20 % writes (weights, passed to bench.lua as MIX)
MIX = {
    "rest_list": 35,
    "rest_get": 25,
    "gql_list": 10,
    "gql_get10": 10,
    "rest_create": 5,
    "rest_update": 10,
    "rest_complete": 5,
}
GQL_VARS = "abcdefghij"
HEAVY_PAGE = 100  # rest_heavy: heavy_user's tasks, this many per page, a random page each time
# claims that are per user or per token: never copied from the `todo-api token` template
CLAIMS_OWN = {"sub", "iat", "exp", "nbf", "jti", "id", "userId", "user_id", "email", "name"}


def log(msg: str) -> None:
    print(f"[{dt.datetime.now(dt.UTC).strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- config
@dataclass
class Config:
    smoke: bool
    duration: int
    warmup: int
    conns: int
    high_conns: int
    threads: int
    workers: int
    port: int
    scenarios: list[tuple[str, int]]
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
    secret: str
    todo_api: list[str]
    ts: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ"))

    @property
    def database_url(self) -> str:
        return f"postgresql://{self.pg_user}@{self.pg_host}:{self.pg_port}/{self.db}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def env_int(name: str, default: int) -> int:
    v = os.environ.get(name, "")
    return int(v) if v.strip() else default


def default_todo_api() -> list[str]:
    return [str(Path(sys.executable).parent / "todo-api")]  # run.sh starts us in the venv


def parse_scenarios(spec: str, conns: int, high: int | None) -> list[tuple[str, int]]:
    """SCENARIOS="rest_list,gql_list@1000,mixed" -> [(name, conns)]; "all" = default set
    (the eight at CONNS, then rest_list and mixed at HIGH_CONNS unless that is None)."""
    if not spec.strip() or spec.strip() == "all":
        return [(s, conns) for s in BASE_SCENARIOS] + [(s, high) for s in HIGH_SCENARIOS if high]
    out = []
    for item in spec.replace(" ", "").split(","):
        if not item:
            continue
        name, _, c = item.partition("@")
        if name not in BASE_SCENARIOS:
            sys.exit(f"unknown scenario {name!r}; known: {', '.join(BASE_SCENARIOS)}")
        out.append((name, int(c) if c else conns))
    return out


def load_config(smoke: bool) -> Config:
    e = os.environ.get
    conns = env_int("CONNS", 10 if smoke else 100)
    # --smoke skips the high-concurrency pair unless HIGH_CONNS is given
    high = env_int("HIGH_CONNS", 0 if smoke else 1000)
    duration = env_int("DURATION", 2 if smoke else 15)
    secret = e("BENCH_SECRET", "bench-secret-not-for-production-0123456789abcdef")
    if len(secret) < 32:
        sys.exit("BENCH_SECRET must be at least 32 characters")
    todo_api = [
        str(ROOT / a) if not a.startswith("/") and (ROOT / a).exists() else a
        for a in shlex.split(e("TODO_API", ""))
    ] or default_todo_api()
    return Config(
        smoke=smoke,
        duration=duration,
        warmup=env_int("WARMUP", 0 if smoke else 3),
        conns=conns,
        high_conns=high,
        threads=env_int("THREADS", 2),
        workers=env_int("WORKERS", 2),
        port=env_int("PORT", 8000),
        scenarios=parse_scenarios(e("SCENARIOS", ""), conns, high),
        pg_host=e("PGHOST_BENCH", "127.0.0.1"),
        pg_port=env_int("PGPORT_BENCH", 5432),
        pg_user=e("PGUSER_BENCH", "postgres"),
        db=e("DB_NAME", "todo_bench"),
        n_users=env_int("N_USERS", 20 if smoke else 1000),
        tasks_per_user=env_int("TASKS_PER_USER", 5 if smoke else 50),
        heavy_tasks=env_int("HEAVY_TASKS", 50 if smoke else 1000),
        n_tokens=env_int("N_TOKENS", 10 if smoke else 300),
        pgbench=e("PGBENCH", "1") != "0",
        pgbench_clients=env_int("PGBENCH_CLIENTS", 4 if smoke else 32),
        pgbench_duration=env_int("PGBENCH_DURATION", 1 if smoke else duration),
        pgbench_protocol=e("PGBENCH_PROTOCOL", "prepared"),
        wrk_cpus=e("WRK_CPUS", "1"),
        wrk_timeout=e("WRK_TIMEOUT", "10s"),
        busy_sample=e("BUSY_SAMPLE", "0" if smoke else "1") != "0",
        pool_size=env_int("DB_POOL_SIZE", 20),
        max_overflow=env_int("DB_MAX_OVERFLOW", 0),
        secret=secret,
        todo_api=todo_api,
    )


# ------------------------------------------------------------------------- processes
CHILDREN: dict[str, subprocess.Popen[bytes]] = {}
SPAWNED: set[int] = set()  # session ids of everything we started (for OthersCpu)
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Children run in the run's log directory, not the checkout, so that no developer .env is
# read by the service (pydantic-settings reads ./.env): every setting here is explicit.
WORKDIR = ROOT


def spawn(
    name: str, argv: list[str], out: IO[bytes] | int, env: Env | None = None
) -> subprocess.Popen[bytes]:
    """Start argv in its own session (so its whole process group can be signalled)."""
    p = subprocess.Popen(
        argv,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=WORKDIR,
        start_new_session=True,
    )
    CHILDREN[name] = p
    SPAWNED.add(p.pid)
    return p


def stop(name: str, grace: float = 10.0) -> None:
    p = CHILDREN.pop(name, None)
    if p is None:
        return
    if p.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(grace)
    # the group may outlive its leader (e.g. uvicorn workers): KILL whatever is left
    with contextlib.suppress(ProcessLookupError):
        os.killpg(p.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        p.wait(5)


def stop_all() -> None:
    for name in list(CHILDREN):
        stop(name)


def run_bounded(
    name: str, argv: list[str], timeout: float, env: Env | None = None
) -> tuple[int, str]:
    """Run a tool to completion (own process group, hard time limit); returns (rc, output)."""
    p = spawn(name, argv, subprocess.PIPE, env)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        log(f"{name}: still running after {timeout:.0f} s, killing it")
        stop(name, grace=2)
        return 124, ""
    CHILDREN.pop(name, None)
    return p.returncode, out.decode(errors="replace")


def on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


# -------------------------------------------------------------------------- postgres
def psql(cfg: Config, db: str, *args: str, timeout: float = 300) -> str:
    argv = [
        "psql",
        "-h",
        cfg.pg_host,
        "-p",
        str(cfg.pg_port),
        "-U",
        cfg.pg_user,
        "-XqAt",
        "-v",
        "ON_ERROR_STOP=1",
        "-d",
        db,
        *args,
    ]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"psql failed: {' '.join(args)}\n{r.stderr.strip()}")
    return r.stdout.strip()


def recreate_db(cfg: Config) -> None:
    psql(
        cfg,
        "postgres",
        "-c",
        f'DROP DATABASE IF EXISTS "{cfg.db}" WITH (FORCE)',
        "-c",
        f'CREATE DATABASE "{cfg.db}"',
    )
    log(f"recreated database {cfg.db} on {cfg.pg_host}:{cfg.pg_port}")


def service_env(cfg: Config) -> Env:
    env = dict(os.environ)
    env.update(
        {
            "APP_ENV": "production",
            "DATABASE_URL": cfg.database_url,
            "BETTER_AUTH_SECRET": cfg.secret,
            "RATE_LIMIT": os.environ.get("BENCH_RATE_LIMIT", "1000000/minute"),
            "RATE_LIMIT_ANONYMOUS": os.environ.get("BENCH_RATE_LIMIT", "1000000/minute"),
            "DB_POOL_SIZE": str(cfg.pool_size),
            "DB_MAX_OVERFLOW": str(cfg.max_overflow),
            "LOG_LEVEL": "warning",
        }
    )
    return env


def migrate(cfg: Config, logdir: Path) -> None:
    rc, out = run_bounded("migrate", [*cfg.todo_api, "migrate"], 300, service_env(cfg))
    (logdir / "migrate.log").write_text(out)
    if rc != 0:
        raise RuntimeError(f"`todo-api migrate` failed (rc={rc}):\n{out[-3000:]}")
    log("migrated (todo-api migrate)")


def seed(cfg: Config) -> None:
    t0 = time.monotonic()
    out = psql(
        cfg,
        cfg.db,
        "-v",
        f"n_users={cfg.n_users}",
        "-v",
        f"tasks_per_user={cfg.tasks_per_user}",
        "-v",
        f"heavy_tasks={cfg.heavy_tasks}",
        "-f",
        str(HERE / "seed.sql"),
    )
    log(f"{out.splitlines()[-1]} ({time.monotonic() - t0:.1f} s)")


def cleanup_writes(cfg: Config) -> None:
    """Drop rows created by the write scenarios, so every scenario sees the seeded data."""
    psql(
        cfg,
        cfg.db,
        "-c",
        "DELETE FROM tasks WHERE title LIKE 'wrk-create%' OR title = 'pgbench-create'",
        "-c",
        "VACUUM (ANALYZE) tasks",
    )


def pg_max_connections(cfg: Config) -> int:
    return int(psql(cfg, "postgres", "-c", "SHOW max_connections"))


# --------------------------------------------------------------------------- measure
def host_busy(seconds: float = 1.0) -> str:
    """Host CPU busy % (all cores) over `seconds` while nothing of ours runs."""

    def snap() -> tuple[int, int]:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + v[4]
        return sum(v[:8]) - idle, sum(v[:8])

    b1, t1 = snap()
    time.sleep(seconds)
    b2, t2 = snap()
    return f"{100 * (b2 - b1) / max(t2 - t1, 1):.0f}"


def _proc_cpu() -> dict[int, tuple[int, int, int]]:
    """pid -> (ppid, session id, utime + stime ticks) for every process."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rfind(")") + 2 :].split()
        out[int(d)] = (int(rest[1]), int(rest[3]), int(rest[11]) + int(rest[12]))
    return out


class OthersCpu:
    """CPU used during a measurement by processes that are not ours (other tenants of the
    machine), in % of all cores. Ours: this run's session, every process group we spawned,
    kernel threads, and PostgreSQL's backends of our database plus its background processes.
    Processes that exit inside the window are missed, so it is a lower bound."""

    def __init__(self, cfg: Config):
        self.cfg = cfg

    def start(self) -> None:
        self.t0, self.before = time.monotonic(), _proc_cpu()

    def end(self) -> str:
        after, wall = _proc_cpu(), max(time.monotonic() - self.t0, 1e-3)
        sids = {os.getsid(0)} | SPAWNED
        try:
            pg = {
                int(x)
                for x in psql(
                    self.cfg,
                    self.cfg.db,
                    "-c",
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "OR backend_type <> 'client backend'",
                ).split()
            }
        except (RuntimeError, ValueError, subprocess.SubprocessError):
            pg = set()
        used = 0
        service = CHILDREN.get("service")
        service_sid = service.pid if service is not None else None
        self.service_s = self.pg_s = 0.0  # CPU seconds of the service's workers / of PostgreSQL
        for pid, (ppid, sid, t) in after.items():
            spent = max(t - self.before.get(pid, (0, 0, 0))[2], 0) / CLK_TCK
            if sid == service_sid:
                self.service_s += spent
            elif pid in pg:
                self.pg_s += spent
            if sid in sids or pid == 2 or ppid == 2 or pid in pg:
                continue
            used += spent
        return f"{100 * used / wall / (os.cpu_count() or 1):.0f}"


def cpu_per_request(meter: OthersCpu, requests: int) -> Row:
    """CPU milliseconds per request of the service's workers and of PostgreSQL: unlike req/s,
    these barely move when other tenants take CPU, so they compare runs on a noisy box."""
    if not requests:
        return {"svc_ms": None, "pg_ms": None}
    return {"svc_ms": 1000 * meter.service_s / requests, "pg_ms": 1000 * meter.pg_s / requests}


def heavy_pages(cfg: Config) -> int:
    return max(1, cfg.heavy_tasks // HEAVY_PAGE)


def pin(cfg: Config) -> list[str]:
    return ["taskset", "-c", cfg.wrk_cpus] if cfg.wrk_cpus and shutil.which("taskset") else []


def pct(sorted_vals: list[float], q: float) -> float:
    return sorted_vals[min(len(sorted_vals) - 1, int(len(sorted_vals) * q))]


def run_pgbench(cfg: Config, script: str, logdir: Path) -> Row:
    prefix = logdir / f"pgbench-{script}"
    argv = [
        *pin(cfg),
        "pgbench",
        "-h",
        cfg.pg_host,
        "-p",
        str(cfg.pg_port),
        "-U",
        cfg.pg_user,
        "-n",
        "-M",
        cfg.pgbench_protocol,
        "-c",
        str(cfg.pgbench_clients),
        "-j",
        "2",
        "-T",
        str(cfg.pgbench_duration),
        "-D",
        f"nusers={cfg.n_users}",
        "-D",
        f"ntasks={cfg.tasks_per_user}",
        "-D",
        f"heavypage={HEAVY_PAGE}",
        "-D",
        f"heavypages={heavy_pages(cfg)}",
        "-l",
        f"--log-prefix={prefix}",
        "-f",
        str(HERE / "pgbench" / f"{script}.sql"),
        cfg.db,
    ]
    busy = host_busy() if cfg.busy_sample else "-"
    others = OthersCpu(cfg)
    others.start()
    rc, out = run_bounded(f"pgbench-{script}", argv, cfg.pgbench_duration + 60)
    oth = others.end()
    (logdir / f"pgbench-{script}.out").write_text(out)
    tps = failed = n = None
    for line in out.splitlines():
        if line.startswith("tps = "):
            tps = float(line.split()[2])
        elif line.startswith("number of failed transactions:"):
            failed = int(line.split(":")[1].split()[0])
        elif line.startswith("number of transactions actually processed:"):
            n = int(line.split(":")[1].split("/")[0])
    lat: list[float] = []
    for f in logdir.glob(f"pgbench-{script}.*"):
        if f.suffix == ".out":
            continue
        with open(f) as fh:
            lat.extend(int(line.split()[2]) / 1000 for line in fh if line.strip())
        f.unlink()
    lat.sort()
    row = {
        "scenario": f"pgbench:{script}",
        "conns": cfg.pgbench_clients,
        "req_s": tps or 0.0,
        "p50": pct(lat, 0.50) if lat else None,
        "p95": pct(lat, 0.95) if lat else None,
        "p99": pct(lat, 0.99) if lat else None,
        "errors": failed if failed is not None else "?",
        "requests": n or 0,
        "ceiling": None,
        "busy": busy,
        "others": oth,
        **cpu_per_request(others, n or 0),
        "note": "-" if rc == 0 else f"pgbench_rc={rc}",
        "error_detail": "-",
    }
    log(
        f"  pgbench {script}: {row['req_s']:.0f} tps, p99 {row['p99'] or 0:.2f} ms, "
        f"failed {row['errors']}"
    )
    return row


def poll_tags(cfg: Config, users: list[tuple[str, str, list[str]]], path: Path) -> None:
    """poll_tags.txt: '<user_id> <ETag of their rest_list page>' (rest_poll sends it back)."""
    lines = []
    for user, tok, _ in users:
        r = httpx.get(f"{cfg.base_url}/api/{user}/tasks", params={"limit": 50}, timeout=10,
                      headers={"Authorization": f"Bearer {tok}"})
        lines.append(f"{user} {r.headers.get('etag', '-')}\n")
    path.write_text("".join(lines))


def wrk_env(cfg: Config, scenario: str, users_file: Path) -> Env:
    env = dict(os.environ)
    env.update(
        {
            "SCENARIO": scenario,
            "USERS_FILE": str(users_file),
            "POLL_TAGS_FILE": str(users_file.with_name("poll_tags.txt")),
            "GQL_LIST_FILE": str(HERE / "queries" / "list.graphql"),
            "GQL_GET10_FILE": str(HERE / "queries" / "get10.graphql"),
            "MIX": ",".join(f"{k}:{v}" for k, v in MIX.items()),
            "LIST_LIMIT": "50",
            "HEAVY_PAGE": str(HEAVY_PAGE),
            "HEAVY_PAGES": str(heavy_pages(cfg)),
        }
    )
    return env


def run_wrk(
    cfg: Config, scenario: str, conns: int, seconds: int, users_file: Path, latency: bool = True
) -> tuple[int, str]:
    argv = [
        *pin(cfg),
        "wrk",
        f"-t{min(cfg.threads, conns)}",
        f"-c{conns}",
        f"-d{seconds}s",
        f"--timeout={cfg.wrk_timeout}",
        *(["--latency"] if latency else []),
        "-s",
        str(HERE / "wrk" / "bench.lua"),
        cfg.base_url,
    ]
    return run_bounded(f"wrk-{scenario}", argv, seconds + 60, wrk_env(cfg, scenario, users_file))


def parse_wrk(out: str) -> Row:
    res = {
        "req_s": 0.0,
        "p50": None,
        "p95": None,
        "p99": None,
        "errors": "?",
        "requests": 0,
        "busy_conns": 0,
        "error_detail": "-",
    }
    for line in out.splitlines():
        parts = line.split()
        if parts[:1] == ["RESULT"] and len(parts) >= 8:
            res.update(
                req_s=float(parts[1]),
                p50=float(parts[2]),
                p95=float(parts[3]),
                p99=float(parts[4]),
                errors=int(parts[5]),
                requests=int(parts[6]),
                busy_conns=float(parts[7]),
            )
        elif parts[:1] == ["ERRORS"]:
            res["error_detail"] = " ".join(p for p in parts[1:] if not p.endswith("=0"))
    return res


# -------------------------------------------------------------------------- service
class Service:
    def __init__(self, cfg: Config, logdir: Path):
        self.cfg, self.logdir, self.starts = cfg, logdir, 0

    def start(self) -> None:
        self.starts += 1
        logf = open(self.logdir / f"service-{self.starts}.log", "wb")  # noqa: SIM115
        argv = [
            *self.cfg.todo_api,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.cfg.port),
            "--workers",
            str(self.cfg.workers),
        ]
        p = spawn("service", argv, logf, service_env(self.cfg))
        log(f"started service (pid {p.pid}): {' '.join(argv)}")
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if p.poll() is not None:
                raise RuntimeError(
                    f"service exited (rc={p.returncode}) during start-up; "
                    f"log: {self.logdir / f'service-{self.starts}.log'}\n" + self.log_tail()
                )
            if self.healthy():
                time.sleep(1.0)  # let the other workers finish importing
                return
            time.sleep(0.2)
        raise RuntimeError("service did not answer /health within 90 s\n" + self.log_tail())

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return (self.logdir / f"service-{self.starts}.log").read_text(errors="replace")[-3000:]
        return ""

    def healthy(self) -> bool:
        try:
            return httpx.get(self.cfg.base_url + "/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def drain(self, limit: float = 30.0) -> float:
        """Wait until requests queued by a finished wrk run are worked off (wrk closes its
        connections, but the workers still serve what was accepted): /health must answer
        in < 100 ms three times in a row. Returns the seconds waited."""
        t_start = time.monotonic()
        fast = 0
        while fast < 3 and time.monotonic() - t_start < limit:
            t0 = time.monotonic()
            if self.healthy() and time.monotonic() - t0 < 0.1:
                fast += 1
            else:
                fast = 0
            time.sleep(0.1)
        return time.monotonic() - t_start

    def alive(self) -> bool:
        p = CHILDREN.get("service")
        if p is None or p.poll() is not None:
            return False
        for _ in range(10):
            if self.healthy():
                return True
            time.sleep(1)
        return False

    def stop(self) -> None:
        stop("service")
        log("stopped service")


# --------------------------------------------------------------------------- tokens
def users_claims_template(cfg: Config, logdir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Ask `todo-api token` for one token and copy its extra claims/headers (iss, aud, kid...)."""
    rc, out = run_bounded("token", [*cfg.todo_api, "token", "user_0001"], 120, service_env(cfg))
    (logdir / "token.log").write_text(out)
    lines = [x.strip() for x in out.splitlines() if x.strip().count(".") == 2]
    if rc != 0 or not lines:
        log(f"WARNING: `todo-api token` failed (rc={rc}); minting plain sub/iat/exp tokens")
        return {}, {}
    tok = lines[-1]
    header = jwt.get_unverified_header(tok)
    try:
        claims = jwt.decode(
            tok,
            cfg.secret,
            algorithms=["HS256"],
            options={"verify_aud": False, "verify_iss": False},
        )
    except jwt.InvalidTokenError as exc:
        log(
            f"WARNING: `todo-api token` output does not verify with BETTER_AUTH_SECRET ({exc}); "
            "copying its claims anyway"
        )
        claims = jwt.decode(tok, options={"verify_signature": False})
    extra = {k: v for k, v in claims.items() if k not in CLAIMS_OWN}
    hdr = {k: v for k, v in header.items() if k not in {"alg", "typ"}}
    if extra or hdr:
        log(f"token template from `todo-api token`: claims {sorted(extra)} headers {sorted(hdr)}")
    return extra, hdr


def task_id(user: str, n: int) -> str:
    return str(uuid.UUID(hashlib.md5(f"{user}:{n}".encode()).hexdigest()))  # noqa: S324


def mint_users(
    cfg: Config, path: Path, extra: dict[str, Any], hdr: dict[str, Any]
) -> list[tuple[str, str, list[str]]]:
    """users.txt: '<user_id> <jwt> <10 task ids>' (same format as the anchors' data/users.txt)."""
    rng = random.Random(1234)
    now = int(time.time())
    picks = [
        (f"user_{u:04d}", cfg.tasks_per_user)
        for u in rng.sample(range(1, cfg.n_users + 1), min(cfg.n_tokens, cfg.n_users))
    ]
    if cfg.heavy_tasks > 0:
        picks.append(("heavy_user", cfg.heavy_tasks))
    rows = []
    for user, n in picks:
        ns = rng.sample(range(1, n + 1), 10) if n >= 10 else [rng.randint(1, n) for _ in range(10)]
        tok = jwt.encode(
            {**extra, "sub": user, "iat": now, "exp": now + 86400},
            cfg.secret,
            algorithm="HS256",
            headers=hdr or None,
        )
        rows.append((user, tok, [task_id(user, i) for i in ns]))
    path.write_text("".join(f"{u} {t} {' '.join(ids)}\n" for u, t, ids in rows))
    log(f"minted {len(rows)} tokens -> {path}")
    return rows


# ------------------------------------------------------------------------ preflight
def gql_doc(name: str) -> str:
    return "\n".join(
        x
        for x in (HERE / "queries" / name).read_text().splitlines()
        if not x.lstrip().startswith("#")
    )


def preflight(
    cfg: Config, users: list[tuple[str, str, list[str]]], kinds: set[str]
) -> dict[str, str]:
    """One correct request per request kind (+ cross-user refusal); returns {kind: failure}."""
    (u0, t0, ids0), (u1, _, _) = users[0], users[1]
    h = {"Authorization": f"Bearer {t0}"}
    api = f"{cfg.base_url}/api/{u0}/tasks"
    fails: dict[str, str] = {}
    want_list = min(50, cfg.tasks_per_user)

    def body(r: httpx.Response) -> Any:
        try:
            return r.json()
        except ValueError:
            return None

    def check(kind: str, fn: Callable[[], str | None]) -> None:
        if kind not in kinds:
            return
        try:
            msg = fn()
        except (httpx.HTTPError, KeyError, TypeError, IndexError, AttributeError) as exc:
            msg = f"{type(exc).__name__}: {exc}"
        if msg:
            fails[kind] = msg
            log(f"  preflight {kind}: FAIL {msg}")
        else:
            log(f"  preflight {kind}: ok")

    def gql(doc: str, variables: dict[str, str]) -> tuple[int, Any]:
        r = httpx.post(
            cfg.base_url + "/graphql",
            headers=h,
            timeout=10,
            json={"query": gql_doc(doc), "variables": variables},
        )
        return r.status_code, body(r)

    def rest_list() -> str | None:
        r = httpx.get(api, params={"limit": 50}, headers=h, timeout=10)
        b = body(r)
        if r.status_code != 200 or not isinstance(b, list):
            return f"HTTP {r.status_code}: {r.text[:200]}"
        if len(b) != want_list:
            return f"expected {want_list} tasks, got {len(b)}"
        owners = {t.get("user_id", t.get("userId", u0)) for t in b}
        if owners != {u0}:
            return f"foreign rows in list: {owners}"
        x = httpx.get(f"{cfg.base_url}/api/{u1}/tasks", headers=h, timeout=10)
        if 200 <= x.status_code < 300:
            return f"SECURITY: {u0}'s token listed {u1}'s tasks (HTTP {x.status_code})"
        return None

    def rest_poll() -> str | None:
        tag = httpx.get(api, params={"limit": 50}, headers=h, timeout=10).headers.get("etag")
        r = httpx.get(api, params={"limit": 50}, headers={**h, "If-None-Match": tag or ""},
                      timeout=10)
        if r.status_code != 304 or r.content:
            return f"expected 304 without a body for the current ETag, got HTTP {r.status_code}"
        return None

    def rest_heavy() -> str | None:
        heavy = next((u for u in users if u[0] == "heavy_user"), None)
        if heavy is None:
            return "no heavy_user token (HEAVY_TASKS=0?)"
        last = (heavy_pages(cfg) - 1) * HEAVY_PAGE
        r = httpx.get(
            f"{cfg.base_url}/api/heavy_user/tasks",
            params={"limit": HEAVY_PAGE, "offset": last},
            headers={"Authorization": f"Bearer {heavy[1]}"},
            timeout=10,
        )
        b = body(r)
        if r.status_code != 200 or not isinstance(b, list):
            return f"HTTP {r.status_code}: {r.text[:200]}"
        want = min(HEAVY_PAGE, cfg.heavy_tasks - last)
        if len(b) != want or {t.get("user_id") for t in b} != {"heavy_user"}:
            return f"expected {want} of heavy_user's tasks at offset {last}, got {len(b)}"
        if r.headers.get("x-total-count") != str(cfg.heavy_tasks):
            return f"X-Total-Count {r.headers.get('x-total-count')} != {cfg.heavy_tasks}"
        return None

    def rest_get() -> str | None:
        r = httpx.get(f"{api}/{ids0[0]}", headers=h, timeout=10)
        b = body(r)
        if r.status_code != 200 or not isinstance(b, dict) or str(b.get("id")) != ids0[0]:
            return f"HTTP {r.status_code}: {r.text[:200]}"
        return None

    def gql_list() -> str | None:
        code, b = gql("list.graphql", {})
        if code != 200 or not b or b.get("errors") or not b.get("data"):
            return f"HTTP {code}: {json.dumps(b)[:300]}"
        t = b["data"]["tasks"]
        if len(t["nodes"]) != want_list or t["totalCount"] < len(t["nodes"]):
            return (
                f"expected {want_list} nodes, got {len(t['nodes'])} (totalCount {t['totalCount']})"
            )
        return None

    def gql_get10() -> str | None:
        code, b = gql("get10.graphql", dict(zip(GQL_VARS, ids0, strict=True)))
        if code != 200 or not b or b.get("errors") or not b.get("data"):
            return f"HTTP {code}: {json.dumps(b)[:300]}"
        got = [(b["data"].get(f"t{i}") or {}).get("id") for i in range(10)]
        if [str(g) for g in got] != ids0:
            return f"ids returned {got} != requested"
        return None

    def rest_create() -> str | None:
        r = httpx.post(api, json={"title": "wrk-create preflight"}, headers=h, timeout=10)
        if not 200 <= r.status_code < 300:
            return f"HTTP {r.status_code}: {r.text[:200]}"
        if r.status_code != 201:
            log(f"  note: create answered {r.status_code}, the interface says 201")
        return None

    def rest_update() -> str | None:
        r = httpx.put(
            f"{api}/{ids0[1]}", json={"title": "wrk-update preflight"}, headers=h, timeout=10
        )
        b = body(r)
        if (
            r.status_code != 200
            or not isinstance(b, dict)
            or b.get("title") != "wrk-update preflight"
        ):
            return f"HTTP {r.status_code}: {r.text[:200]}"
        return None

    def rest_complete() -> str | None:
        r = httpx.patch(
            f"{api}/{ids0[2]}/complete", json={"completed": True}, headers=h, timeout=10
        )
        b = body(r)
        if r.status_code != 200 or (isinstance(b, dict) and b.get("completed") is False):
            return f"HTTP {r.status_code}: {r.text[:200]}"
        return None

    for kind, fn in [
        ("rest_list", rest_list),
        ("rest_poll", rest_poll),
        ("rest_heavy", rest_heavy),
        ("rest_get", rest_get),
        ("gql_list", gql_list),
        ("gql_get10", gql_get10),
        ("rest_create", rest_create),
        ("rest_update", rest_update),
        ("rest_complete", rest_complete),
    ]:
        check(kind, fn)
    return fails


# --------------------------------------------------------------------------- output
COLUMNS = [
    "scenario",
    "conns",
    "req_s",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "errors",
    "requests",
    "ceiling_req_s",
    "of_ceiling",
    "busy_before%",
    "others_during%",
    "svc_cpu_ms",
    "pg_cpu_ms",
    "note",
    "error_detail",
]


def fmt_row(r: Row) -> list[str]:
    def f(v: float | None, spec: str) -> str:
        return "-" if v is None else format(v, spec)

    frac = (r["req_s"] / r["ceiling"]) if r.get("ceiling") and r["req_s"] is not None else None
    return [
        r["scenario"],
        str(r["conns"]),
        f(r["req_s"], ".1f"),
        f(r["p50"], ".2f"),
        f(r["p95"], ".2f"),
        f(r["p99"], ".2f"),
        str(r["errors"]),
        str(r["requests"]),
        f(r.get("ceiling"), ".0f"),
        "-" if frac is None else f"{100 * frac:.1f}%",
        str(r.get("busy", "-")),
        str(r.get("others", "-")),
        f(r.get("svc_ms"), ".2f"),
        f(r.get("pg_ms"), ".2f"),
        r.get("note") or "-",
        r.get("error_detail") or "-",
    ]


def print_table(rows: list[list[str]]) -> None:
    cols = COLUMNS[:-1]  # error_detail only in the TSV
    rows = [r[:-1] for r in rows]
    w = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(cols)]
    num = set(range(1, 14))

    def line(vals: list[str]) -> str:
        cells = (v.rjust(w[i]) if i in num else v.ljust(w[i]) for i, v in enumerate(vals))
        return "  ".join(cells).rstrip()

    print(line(cols))
    print("  ".join("-" * x for x in w))
    for r in rows:
        print(line(r))


def git_rev() -> str:
    try:
        rev = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "?"


# ----------------------------------------------------------------------------- main
def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--smoke",
        action="store_true",
        help="tiny run for CI: 20 users x 5 tasks, 2 s per scenario, 10 connections",
    )
    ap.add_argument("--no-pgbench", action="store_true", help="skip the pgbench ceiling")
    args = ap.parse_args()
    cfg = load_config(args.smoke)
    if args.no_pgbench:
        cfg.pgbench = False
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started in background
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    results = HERE / "results"
    logdir = results / f"logs-{cfg.ts}"
    logdir.mkdir(parents=True, exist_ok=True)
    global WORKDIR
    WORKDIR = logdir
    tsv = results / f"bench-{cfg.ts}.tsv"
    t_start = time.monotonic()
    meta = {k: v for k, v in vars(cfg).items() if k != "secret"}
    meta["git"] = git_rev()
    (logdir / "meta.json").write_text(json.dumps(meta, indent=1, default=str))
    log(
        f"{'SMOKE ' if cfg.smoke else ''}git={meta['git']} WORKERS={cfg.workers} "
        f"DURATION={cfg.duration}s "
        f"WARMUP={cfg.warmup}s CONNS={cfg.conns} HIGH_CONNS={cfg.high_conns} THREADS={cfg.threads} "
        f"WRK_CPUS='{cfg.wrk_cpus}' PGBENCH_CLIENTS={cfg.pgbench_clients} "
        f"ulimit_n={resource.getrlimit(resource.RLIMIT_NOFILE)[0]} logs={logdir}"
    )

    for tool in ["wrk", "pgbench", "psql"]:
        if not shutil.which(tool):
            sys.exit(f"missing {tool} (apt-get install -y wrk postgresql-client)")
    need_fd = max(c for _, c in cfg.scenarios) + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need_fd:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(need_fd, 65536)), hard))
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if soft < need_fd:
            log(f"WARNING: ulimit -n is {soft}, {need_fd} needed for the largest scenario")
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", cfg.port)) == 0:
            sys.exit(
                f"port {cfg.port} is already in use (a stray server?); set PORT=... or stop it"
            )

    rows: list[Row] = []
    service = Service(cfg, logdir)
    try:
        recreate_db(cfg)
        maxc = pg_max_connections(cfg)
        if cfg.workers * (cfg.pool_size + cfg.max_overflow) + 5 > maxc:
            log(
                f"WARNING: WORKERS x (DB_POOL_SIZE + DB_MAX_OVERFLOW) = "
                f"{cfg.workers * (cfg.pool_size + cfg.max_overflow)} exceeds max_connections={maxc}"
            )
        migrate(cfg, logdir)
        seed(cfg)

        ceilings: dict[str, float] = {}
        if cfg.pgbench:
            scripts = sorted(
                {CEILING_SQL[k] for s, _ in cfg.scenarios for k in (MIX if s == "mixed" else [s])}
            )
            log(
                f"pgbench ceiling: {', '.join(scripts)} (-c {cfg.pgbench_clients} -j 2 "
                f"-T {cfg.pgbench_duration} -M {cfg.pgbench_protocol})"
            )
            for script in scripts:
                r = run_pgbench(cfg, script, logdir)
                rows.append(r)
                if r["req_s"]:
                    ceilings[script] = r["req_s"]
            cleanup_writes(cfg)

        users_file = logdir / "users.txt"
        extra, hdr = users_claims_template(cfg, logdir)
        users = mint_users(cfg, users_file, extra, hdr)

        service.start()
        kinds = {k for s, _ in cfg.scenarios for k in (MIX if s == "mixed" else [s])}
        fails = preflight(cfg, users, kinds)
        if "rest_poll" in kinds:
            poll_tags(cfg, users, users_file.with_name("poll_tags.txt"))
        cleanup_writes(cfg)

        for scenario, conns in cfg.scenarios:
            comps = list(MIX) if scenario == "mixed" else [scenario]
            if scenario == "mixed":
                tot = sum(MIX.values())
                ok = all(CEILING_SQL[k] in ceilings for k in MIX)
                ceiling = (
                    (1 / sum(w / tot / ceilings[CEILING_SQL[k]] for k, w in MIX.items()))
                    if ok
                    else None
                )
            else:
                ceiling = ceilings.get(CEILING_SQL[scenario])
            bad = [f"{k}: {fails[k]}" for k in comps if k in fails]
            if bad:
                rows.append(
                    {
                        "scenario": scenario,
                        "conns": conns,
                        "req_s": None,
                        "p50": None,
                        "p95": None,
                        "p99": None,
                        "errors": "PREFLIGHT_FAIL",
                        "requests": 0,
                        "ceiling": ceiling,
                        "busy": "-",
                        "note": "preflight failed",
                        "error_detail": "; ".join(bad)[:300],
                    }
                )
                continue
            if not service.alive():
                log("service is not healthy; restarting it")
                service.stop()
                service.start()
            log(f"{scenario} @ {conns} conns")
            if cfg.warmup > 0:
                run_wrk(cfg, scenario, conns, cfg.warmup, users_file, latency=False)
                service.drain()
            busy = host_busy() if cfg.busy_sample else "-"
            others = OthersCpu(cfg)
            others.start()
            rc, out = run_wrk(cfg, scenario, conns, cfg.duration, users_file)
            oth = others.end()
            (logdir / f"wrk-{scenario}-c{conns}.out").write_text(out)
            res = parse_wrk(out)
            notes = []
            drained = service.drain()
            if drained > 2:
                notes.append(f"backlog_drained_in_{drained:.0f}s")
            if rc != 0 or res["errors"] == "?":
                notes.append(f"wrk_rc={rc}")
                log(out[-1500:])
            if res["busy_conns"] and res["busy_conns"] < conns * 0.85:
                notes.append(f"only_{res['busy_conns']:.0f}_of_{conns}_conns_active")
            if not service.alive():
                notes.append("service_unhealthy_after")
            row = {
                "scenario": scenario,
                "conns": conns,
                **res,
                "ceiling": ceiling,
                "busy": busy,
                "others": oth,
                **cpu_per_request(others, res["requests"] or 0),
                "note": ",".join(notes) or "-",
            }
            rows.append(row)
            log(
                f"  -> {res['req_s']:.1f} req/s p50={res['p50']} p95={res['p95']} p99={res['p99']} "
                f"errors={res['errors']} ({res['error_detail']}) n={res['requests']}"
            )
            if scenario in WRITES:
                cleanup_writes(cfg)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    except RuntimeError as exc:
        log(f"ERROR: {exc}")
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip cleanup
        service.stop() if "service" in CHILDREN else None
        stop_all()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if rows:
            table = [fmt_row(r) for r in rows]
            with open(tsv, "w") as f:
                f.write("\t".join(COLUMNS) + "\n")
                f.writelines("\t".join(r) + "\n" for r in table)
            print()
            print(
                f"results: {tsv}  (git {meta['git']}, WORKERS={cfg.workers}, wrk -t{cfg.threads} "
                f"-d{cfg.duration}s pinned to CPU '{cfg.wrk_cpus or 'none'}', "
                f"pgbench -c{cfg.pgbench_clients} "
                f"-j2 -T{cfg.pgbench_duration} -M {cfg.pgbench_protocol}; "
                f"{time.monotonic() - t_start:.0f} s in all)"
            )
            print_table(table)
    # exit 2 if a scenario could not be measured; in --smoke (CI) also on any request error
    failed = any(isinstance(r["errors"], str) or (cfg.smoke and r["errors"]) for r in rows)
    if failed:
        log("FAILED: see the errors / note columns")
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
