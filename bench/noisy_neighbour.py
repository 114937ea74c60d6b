#!/usr/bin/env python3
"""bench/noisy_neighbour.py -- can one user slow the others down? (see bench/README.md)

Measures victims' lists (`GET /api/{u}/tasks?limit=50`, VICTIMS users, each paced at
VICTIM_RATE requests per second, inside its rate limit) alone, then again while `heavy_user`
(HEAVY_TASKS tasks) drives the heaviest operations the limits allow from NOISY_CLIENTS clients
at once, more than its requests in flight may hold (8 per worker): GraphQL requests of 10
aliased searches of 100 tasks each, the largest REST page, creates. Target: the victims' p95
with the neighbour within 2x of their p95 alone, and not one 429 or 5xx for a victim.

    .venv/bin/python bench/noisy_neighbour.py           # 30 s per phase
    .venv/bin/python bench/noisy_neighbour.py --smoke   # 4 s per phase, small seed

It reuses the driver's harness (database, seed, tokens, `todo-api serve` as in production).
Knobs (env): PHASE_SECONDS VICTIMS VICTIM_RATE NOISY_CLIENTS NOISY_PAGE NOISY_RATE_LIMIT
HEAVY_TASKS WORKERS PORT DB_NAME (and driver.py's). NOISY_RATE_LIMIT (default 120/minute, the
service's default RATE_LIMIT) applies to every user; 1000000/minute leaves only the cap on
requests in flight. Exit status: 0; 1 on a set-up error; 2 when a victim got a 429 or 5xx (or
a transport error); 3 when the p95 target was missed (not in --smoke: timings on a busy
machine mean little).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import time
from collections import Counter
from multiprocessing.synchronize import Event

import httpx

from harness import BENCH_DIR, database
from harness.config import Config, load_config
from harness.log import log
from harness.report import git_rev, percentile
from harness.run import Run, exit_on_signals
from harness.service import Service
from harness.users import User, claims_template, mint_users

SEARCHES_PER_DOCUMENT = 10  # GRAPHQL_MAX_LIST_FIELDS: every search is a list field
SEARCHES = ("task", "heavy", "for", "1", "9", "ask 1", "user")
TARGET_RATIO = 2.0
Result = tuple[float, int]  # (seconds, status; 0 for a transport error)


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    return float(value) if value.strip() else default


def noisy_search_document() -> str:
    fields = " ".join(
        f'a{n}: tasks(filter: {{search: "{SEARCHES[n % len(SEARCHES)]}"}}, first: 100) '
        "{ totalCount nodes { id title description status dueDate } }"
        for n in range(SEARCHES_PER_DOCUMENT))
    return "{ " + fields + " }"


# --------------------------------------------------------------------------- the neighbour
async def _noisy_client(http: httpx.AsyncClient, n: int, user: str, token: str, page: int,
                        stop: Event, statuses: Counter[str]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    document = {"query": noisy_search_document()}
    k = n
    while not stop.is_set():
        k += 1
        try:
            if k % 3 == 0:
                r = await http.post("/graphql", json=document, headers=headers)
            elif k % 3 == 1:
                r = await http.get(f"/api/{user}/tasks?limit={page}&offset={(k * 37) % 9000}",
                                   headers=headers)
            else:
                r = await http.post(f"/api/{user}/tasks", json={"title": f"noisy {n} {k}"},
                                    headers=headers)
            statuses[str(r.status_code)] += 1
        except httpx.HTTPError as error:
            statuses[type(error).__name__] += 1


def noisy_process(base_url: str, user: str, token: str, clients: int, page: int, stop: Event,
                  results: multiprocessing.Queue[dict[str, int]]) -> None:
    """The neighbour, in its own process so that its client work does not slow the victims'."""
    async def run() -> None:
        statuses: Counter[str] = Counter()
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as http:
            await asyncio.gather(*(_noisy_client(http, n, user, token, page, stop, statuses)
                                   for n in range(clients)))
        results.put(dict(statuses))

    asyncio.run(run())


# ------------------------------------------------------------------------------ victims
async def _victim(http: httpx.AsyncClient, user: str, token: str, rate: float, seconds: float,
                  results: list[Result]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    start = time.monotonic()
    k = 0
    while (due := start + k / rate) < start + seconds:
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        sent = time.perf_counter()
        try:
            status = (await http.get(f"/api/{user}/tasks?limit=50", headers=headers)).status_code
        except httpx.HTTPError:
            status = 0
        results.append((time.perf_counter() - sent, status))
        k += 1


async def victims(base_url: str, users: list[User], rate: float,
                  seconds: float) -> list[Result]:
    results: list[Result] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        await asyncio.gather(*(_victim(http, user, token, rate, seconds, results)
                               for user, token, _ in users))
    return results


def summary(phase: str, results: list[Result]) -> dict[str, object]:
    latencies = sorted(seconds * 1000 for seconds, _ in results)
    statuses = Counter(status for _, status in results)
    return {"phase": phase, "requests": len(results),
            "p50_ms": percentile(latencies, 0.50) if latencies else None,
            "p95_ms": percentile(latencies, 0.95) if latencies else None,
            "p99_ms": percentile(latencies, 0.99) if latencies else None,
            "statuses": " ".join(f"{s}:{n}" for s, n in sorted(statuses.items()))}


# --------------------------------------------------------------------------------- main
def preflight(base_url: str, user: str, token: str, page: int) -> None:
    """The neighbour's requests are what they claim to be (no GraphQL errors, a full page)."""
    headers = {"Authorization": f"Bearer {token}"}
    r = httpx.post(base_url + "/graphql", json={"query": noisy_search_document()},
                   headers=headers, timeout=60)
    body = r.json()
    if r.status_code != 200 or "errors" in body:
        raise RuntimeError(f"the aliased searches fail: {r.status_code} {str(body)[:300]}")
    r = httpx.get(f"{base_url}/api/{user}/tasks?limit={page}", headers=headers, timeout=60)
    if r.status_code != 200:
        raise RuntimeError(f"a page of {page} fails: {r.status_code} {r.text[:300]}; "
                           "set NOISY_PAGE to the largest limit the list accepts")


def measure(cfg: Config, users: list[User]) -> list[dict[str, object]]:
    seconds = env_float("PHASE_SECONDS", 4 if cfg.smoke else 30)
    rate = env_float("VICTIM_RATE", 1.0)
    clients = int(env_float("NOISY_CLIENTS", 24))
    page = int(env_float("NOISY_PAGE", 500))
    heavy_user, heavy_token, _ = next(u for u in users if u[0] == "heavy_user")
    victim_users = [u for u in users if u[0] != "heavy_user"][:int(env_float("VICTIMS", 10))]
    preflight(cfg.base_url, heavy_user, heavy_token, page)

    log(f"warm-up: {len(victim_users)} victims for 2 s")
    asyncio.run(victims(cfg.base_url, victim_users, rate, 2))
    log(f"victims alone: {len(victim_users)} users x {rate}/s for {seconds:.0f} s")
    alone = summary("victims alone", asyncio.run(
        victims(cfg.base_url, victim_users, rate, seconds)))

    stop = multiprocessing.Event()
    results: multiprocessing.Queue[dict[str, int]] = multiprocessing.Queue()
    neighbour = multiprocessing.Process(target=noisy_process, args=(
        cfg.base_url, heavy_user, heavy_token, clients, page, stop, results))
    log(f"with the neighbour: {clients} clients of {heavy_user} (aliased searches, "
        f"pages of {page}, creates)")
    neighbour.start()
    try:
        time.sleep(2)  # the neighbour at full tilt before the victims are measured
        loud = summary("victims with the neighbour", asyncio.run(
            victims(cfg.base_url, victim_users, rate, seconds)))
    finally:
        stop.set()
        neighbour.join(60)
        if neighbour.is_alive():
            neighbour.kill()
    noise = results.get(timeout=10) if not results.empty() or neighbour.exitcode == 0 else {}
    neighbour_row = {"phase": "the neighbour (heavy_user)", "requests": sum(noise.values()),
                     "p50_ms": None, "p95_ms": None, "p99_ms": None,
                     "statuses": " ".join(f"{s}:{n}" for s, n in sorted(noise.items()))}
    return [alone, loud, neighbour_row]


def verdict(rows: list[dict[str, object]], smoke: bool) -> int:
    alone, loud = rows[0], rows[1]
    bad = [s for row in (alone, loud) for s in str(row["statuses"]).split()
           if not s.startswith("200:")]
    ratio = (float(loud["p95_ms"]) / float(alone["p95_ms"])  # type: ignore[arg-type]
             if alone["p95_ms"] and loud["p95_ms"] else float("inf"))
    print(f"\nvictims' p95 with the neighbour / alone = {ratio:.2f} (target <= {TARGET_RATIO})"
          f"; victims' answers other than 200: {' '.join(bad) or 'none'}")
    if bad:
        return 2
    if ratio > TARGET_RATIO and not smoke:
        return 3
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="4 s phases, small seed")
    args = ap.parse_args()
    os.environ.setdefault("DB_NAME", "todo_noisy")
    os.environ.setdefault("PORT", "8010")
    os.environ.setdefault("BENCH_RATE_LIMIT", os.environ.get("NOISY_RATE_LIMIT", "120/minute"))
    os.environ.setdefault("BENCH_IN_FLIGHT_PER_USER", "8")  # the service's default: what we test
    os.environ.setdefault("N_USERS", "50")
    os.environ.setdefault("TASKS_PER_USER", "50")
    os.environ.setdefault("HEAVY_TASKS", "1000" if args.smoke else "10000")
    os.environ.setdefault("N_TOKENS", os.environ.get("VICTIMS", "10"))
    cfg = load_config(args.smoke)
    exit_on_signals()
    logdir = BENCH_DIR / "results" / f"noisy-{cfg.ts}"
    run = Run.open(cfg, logdir)
    service = Service(run)
    rows: list[dict[str, object]] = []
    try:
        database.recreate(cfg)
        database.migrate(run)
        database.seed(cfg)
        extra, headers = claims_template(run)
        users = mint_users(cfg, run.users_file, extra, headers)
        service.start()
        rows = measure(cfg, users)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    except RuntimeError as error:
        log(f"ERROR: {error}")
        return 1
    finally:
        run.children.stop_all()
    columns = ["phase", "requests", "p50_ms", "p95_ms", "p99_ms", "statuses"]
    table = [[f"{row[c]:.1f}" if isinstance(row[c], float) else str(row[c] or "-")
              for c in columns] for row in rows]
    (BENCH_DIR / "results" / f"noisy-{cfg.ts}.tsv").write_text(
        "\n".join("\t".join(line) for line in [columns, *table]) + "\n")
    print(f"\nnoisy neighbour (git {git_rev()}, WORKERS={cfg.workers}, "
          f"RATE_LIMIT={cfg.rate_limit}, heavy_user with {cfg.heavy_tasks} "
          f"tasks; logs {logdir})")
    widths = [max(len(line[i]) for line in [columns, *table]) for i in range(len(columns))]
    for line in [columns, *table]:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
    return verdict(rows, cfg.smoke)


if __name__ == "__main__":
    sys.exit(main())
