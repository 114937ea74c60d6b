"""CPU cost per request of the app itself, in-process: robust to a noisy machine.

Drives the ASGI app directly (no socket, no HTTP parser) with ``--concurrency`` requests in
flight against the database a bench run seeded, and prints the process CPU time per request
(``time.process_time``: PostgreSQL's own work is not counted, other tenants barely are).
``--profile`` writes a pyinstrument HTML/text profile of the measured part.

    uv run python bench/profile.py rest_list rest_get gql_list gql_get10 rest_update
    uv run python bench/profile.py --profile rest_list
    uv run python bench/profile.py --seed todo_profile gql_list   # its own database, no bench run
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
GRAPHQL = {name: (BENCH / "queries" / f"{name}.graphql").read_text() for name in ("list", "get10")}
SECRET = os.environ.get("BENCH_SECRET", "bench-secret-not-for-production-0123456789abcdef")


def _seed(db: str) -> Path:
    """Recreate database ``db`` seeded as a full bench run seeds it; its users.txt.

    1,000 users x 50 tasks and heavy_user's 1,000 (bench/seed.sql), tokens for 300 of them.
    """
    def psql(database: str, *args: str) -> None:
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-q",
                        "-v", "ON_ERROR_STOP=1", *args], check=True, stdout=subprocess.DEVNULL)

    psql("postgres", "-c", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)",
         "-c", f"CREATE DATABASE {db}")
    from persistence.migrate import upgrade

    upgrade(f"postgresql://postgres@127.0.0.1:5432/{db}")
    psql(db, "-v", "n_users=1000", "-v", "tasks_per_user=50", "-v", "heavy_tasks=1000",
         "-f", str(BENCH / "seed.sql"))
    import jwt

    rng, now = random.Random(1234), int(time.time())
    lines = []
    for n in rng.sample(range(1, 1001), 300):
        user = f"user_{n:04d}"
        token = jwt.encode({"sub": user, "iat": now, "exp": now + 86400}, SECRET,
                           algorithm="HS256")
        ids = [str(uuid.UUID(hashlib.md5(f"{user}:{i}".encode()).hexdigest()))  # noqa: S324
               for i in rng.sample(range(1, 51), 10)]
        lines.append(f"{user} {token} {' '.join(ids)}\n")
    logs = BENCH / "results" / f"logs-profile-{db}"
    logs.mkdir(parents=True, exist_ok=True)
    (logs / "users.txt").write_text("".join(lines))
    (logs / "meta.json").write_text(json.dumps({"db": db}))
    return logs / "users.txt"


def _users(path: Path) -> list[tuple[str, str, list[str]]]:
    users = []
    for line in path.read_text().splitlines():
        user, token, *ids = line.split()
        users.append((user, token, ids))
    return users


def _request(kind: str, user: str, token: str, ids: list[str]) -> tuple[str, str, str, bytes]:
    """method, path, query string, body for one request of ``kind``."""
    rng = random.choice
    if kind == "health":  # the floor: middleware, routing, no authentication, no database
        return "GET", "/health", "", b""
    if kind == "rest_list":
        return "GET", f"/api/{user}/tasks", "limit=50", b""
    if kind == "rest_get":
        return "GET", f"/api/{user}/tasks/{rng(ids)}", "", b""
    if kind == "rest_create":
        return "POST", f"/api/{user}/tasks", "", b'{"title": "profile create"}'
    if kind == "rest_update":
        return "PUT", f"/api/{user}/tasks/{rng(ids)}", "", b'{"title": "profile update"}'
    if kind == "rest_complete":
        body = b'{"completed": true}' if random.random() < 0.5 else b'{"completed": false}'
        return "PATCH", f"/api/{user}/tasks/{rng(ids)}/complete", "", body
    if kind == "gql_list":
        return "POST", "/graphql", "", json.dumps({"query": GRAPHQL["list"]}).encode()
    if kind == "gql_get10":
        variables = dict(zip("abcdefghij", ids, strict=False))
        return "POST", "/graphql", "", json.dumps({"query": GRAPHQL["get10"],
                                                   "variables": variables}).encode()
    raise SystemExit(f"unknown kind {kind}")


def _caller(app: Any, users: list[tuple[str, str, list[str]]], kind: str
            ) -> Callable[[], Awaitable[int]]:
    async def call() -> int:
        user, token, ids = random.choice(users)
        method, path, query, body = _request(kind, user, token, ids)
        headers = [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {token}".encode())]
        if body:
            headers += [(b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode())]
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
                 "query_string": query.encode(), "root_path": "", "headers": headers,
                 "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "app": app}
        sent = False
        status = 0

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app(scope, receive, send)
        return status

    return call


async def _drive(call: Callable[[], Awaitable[int]], total: int, concurrency: int) -> list[int]:
    statuses: list[int] = []
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            statuses.append(await call())

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kinds", nargs="+")
    parser.add_argument("-n", type=int, default=2000, help="measured requests per kind")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--users", type=Path, default=None,
                        help="users.txt of a bench run (default: the newest)")
    parser.add_argument("--profile", action="store_true", help="pyinstrument the measured part")
    parser.add_argument("--seed", metavar="DB", help="first recreate and seed database DB "
                        "(as a bench run does) and use it")
    args = parser.parse_args()
    users_file = _seed(args.seed) if args.seed else args.users or max(
        BENCH.glob("results/logs-*/users.txt"), key=lambda p: p.stat().st_mtime)
    users = _users(users_file)
    meta = json.loads((users_file.parent / "meta.json").read_text())
    os.environ.update({
        "APP_ENV": "production", "LOG_LEVEL": os.environ.get("LOG_LEVEL", "warning"),
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{meta.get('db', 'todo_bench')}",
        "BETTER_AUTH_SECRET": SECRET,
        "RATE_LIMIT": "1000000/minute", "RATE_LIMIT_ANONYMOUS": "1000000/minute",
    })
    from app.main import create_app

    app = create_app()
    async with app.router.lifespan_context(app):
        for kind in args.kinds:
            call = _caller(app, users, kind)
            statuses = await _drive(call, 200, args.concurrency)  # warm-up: pool, caches
            profiler = None
            if args.profile:
                from pyinstrument import Profiler

                profiler = Profiler(async_mode="disabled", interval=0.001)
                profiler.start()
            cpu, wall = time.process_time(), time.perf_counter()
            statuses = await _drive(call, args.n, args.concurrency)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            if profiler is not None:
                profiler.stop()
                out = BENCH / "results" / f"profile-{kind}.txt"
                out.write_text(profiler.output_text(unicode=False, show_all=True))
                (BENCH / "results" / f"profile-{kind}.html").write_text(profiler.output_html())
                print(f"  profile: {out}", file=sys.stderr)
            bad = sum(1 for s in statuses if not 200 <= s < 300)
            print(f"{kind:14} cpu/request {cpu / args.n * 1000:7.3f} ms   "
                  f"wall {args.n / wall:7.1f} req/s   non-2xx {bad}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
