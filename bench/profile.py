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
import dataclasses
import json
import os
import random
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from harness import BENCH_DIR, database
from harness.config import Config, load_config
from harness.scenarios import GQL_VARS, graphql_document
from harness.users import User, mint_users, read_users

GRAPHQL = {name: graphql_document(f"{name}.graphql") for name in ("list", "get10")}


def _seed(cfg: Config) -> Path:
    """Recreate ``cfg.db`` seeded as a full bench run seeds it; its users.txt.

    1,000 users x 50 tasks and heavy_user's 1,000 (bench/seed.sql), tokens for 300 of them.
    Migrated in-process: the app profiled is this checkout's, whatever TODO_API says.
    """
    from persistence.migrate import upgrade

    database.recreate(cfg)
    upgrade(cfg.database_url)
    database.seed(cfg)
    logs = BENCH_DIR / "results" / f"logs-profile-{cfg.db}"
    logs.mkdir(parents=True, exist_ok=True)
    mint_users(cfg, logs / "users.txt")
    (logs / "meta.json").write_text(json.dumps({"db": cfg.db}))
    return logs / "users.txt"


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
        variables = dict(zip(GQL_VARS, ids, strict=False))
        return "POST", "/graphql", "", json.dumps({"query": GRAPHQL["get10"],
                                                   "variables": variables}).encode()
    raise SystemExit(f"unknown kind {kind}")


def _caller(app: Any, users: list[User], kind: str
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
    cfg = load_config(smoke=False)  # a full run's seed size, and its database settings
    if args.seed:
        users_file = _seed(dataclasses.replace(cfg, db=args.seed))
    else:
        users_file = args.users or max(BENCH_DIR.glob("results/logs-*/users.txt"),
                                       key=lambda p: p.stat().st_mtime)
    users = read_users(users_file)
    meta = json.loads((users_file.parent / "meta.json").read_text())
    cfg = dataclasses.replace(cfg, db=meta.get("db", "todo_bench"))
    log_level = os.environ.get("LOG_LEVEL", "warning")
    os.environ.update({**cfg.todo_api_env(), "LOG_LEVEL": log_level})
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
                out = BENCH_DIR / "results" / f"profile-{kind}.txt"
                out.write_text(profiler.output_text(unicode=False, show_all=True))
                (BENCH_DIR / "results" / f"profile-{kind}.html").write_text(
                    profiler.output_html())
                print(f"  profile: {out}", file=sys.stderr)
            bad = sum(1 for s in statuses if not 200 <= s < 300)
            print(f"{kind:14} cpu/request {cpu / args.n * 1000:7.3f} ms   "
                  f"wall {args.n / wall:7.1f} req/s   non-2xx {bad}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
