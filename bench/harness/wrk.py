"""Load from wrk (bench/wrk/bench.lua, one script for every scenario) and what it reports."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from harness import BENCH_DIR
from harness.config import Config
from harness.cpu import pinned
from harness.run import Run
from harness.scenarios import HEAVY_PAGE, MIX, heavy_pages
from harness.users import User


def write_poll_tags(cfg: Config, users: list[User], path: Path) -> None:
    """poll_tags.txt: '<user_id> <ETag of their rest_list page>' (rest_poll sends it back)."""
    lines = []
    for user, token, _ in users:
        r = httpx.get(f"{cfg.base_url}/api/{user}/tasks", params={"limit": 50}, timeout=10,
                      headers={"Authorization": f"Bearer {token}"})
        lines.append(f"{user} {r.headers.get('etag', '-')}\n")
    path.write_text("".join(lines))


def wrk_env(cfg: Config, scenario: str, users_file: Path) -> dict[str, str]:
    """What bench.lua reads: the scenario, the users, the documents, the mix."""
    return {
        **os.environ,
        "SCENARIO": scenario,
        "USERS_FILE": str(users_file),
        "POLL_TAGS_FILE": str(users_file.with_name("poll_tags.txt")),
        "GQL_LIST_FILE": str(BENCH_DIR / "queries" / "list.graphql"),
        "GQL_GET10_FILE": str(BENCH_DIR / "queries" / "get10.graphql"),
        "MIX": ",".join(f"{k}:{v}" for k, v in MIX.items()),
        "LIST_LIMIT": "50",
        "HEAVY_PAGE": str(HEAVY_PAGE),
        "HEAVY_PAGES": str(heavy_pages(cfg.heavy_tasks)),
    }


def run_wrk(run: Run, scenario: str, conns: int, seconds: int,
            latency: bool = True) -> tuple[int, str]:
    """wrk against the service for ``seconds``, pinned to WRK_CPUS: (exit status, output)."""
    cfg = run.cfg
    argv = [*pinned(cfg), "wrk", f"-t{min(cfg.threads, conns)}", f"-c{conns}", f"-d{seconds}s",
            f"--timeout={cfg.wrk_timeout}", *(["--latency"] if latency else []),
            "-s", str(BENCH_DIR / "wrk" / "bench.lua"), cfg.base_url]
    return run.children.run(f"wrk-{scenario}", argv, seconds + 60,
                            wrk_env(cfg, scenario, run.users_file))


@dataclass(frozen=True, slots=True)
class WrkResult:
    """bench.lua's RESULT and ERRORS lines (README: Errors)."""

    req_s: float = 0.0
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    errors: int | str = "?"
    """"?" when wrk printed no RESULT line."""
    requests: int = 0
    busy_conns: float = 0.0
    """req/s x mean latency (Little's law): connections that were really cycling."""
    error_detail: str = "-"


def parse_wrk(out: str) -> WrkResult:
    """The result bench.lua's done() printed."""
    result = WrkResult()
    for line in out.splitlines():
        parts = line.split()
        if parts[:1] == ["RESULT"] and len(parts) >= 8:
            result = replace(result, req_s=float(parts[1]), p50=float(parts[2]),
                             p95=float(parts[3]), p99=float(parts[4]), errors=int(parts[5]),
                             requests=int(parts[6]), busy_conns=float(parts[7]))
        elif parts[:1] == ["ERRORS"]:
            detail = " ".join(p for p in parts[1:] if not p.endswith("=0"))
            result = replace(result, error_detail=detail)
    return result
