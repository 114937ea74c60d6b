"""CPU accounting from /proc: how busy the host is, and who used the CPU during a measurement."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass

from harness.config import Config
from harness.database import postgres_pids
from harness.run import Run

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
KTHREADD = 2
"""The parent of every kernel thread."""


@dataclass(frozen=True, slots=True)
class ProcessCpu:
    """One process as /proc/<pid>/stat shows it."""

    ppid: int
    session: int
    ticks: int
    """User + system CPU time so far, in clock ticks."""


def process_table() -> dict[int, ProcessCpu]:
    """Every process now: pid -> its parent, session and CPU ticks."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:  # gone since listdir
            continue
        fields = stat[stat.rfind(")") + 2 :].split()  # the command name may hold spaces
        table[int(entry)] = ProcessCpu(ppid=int(fields[1]), session=int(fields[3]),
                                       ticks=int(fields[11]) + int(fields[12]))
    return table


def pinned(cfg: Config) -> list[str]:
    """The taskset prefix that keeps a load generator on WRK_CPUS (none if empty or missing)."""
    return ["taskset", "-c", cfg.wrk_cpus] if cfg.wrk_cpus and shutil.which("taskset") else []


def host_busy(seconds: float = 1.0) -> str:
    """Host CPU busy % (all cores) over ``seconds``: sampled while nothing of ours runs."""

    def busy_and_total() -> tuple[int, int]:
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:]]
        idle = ticks[3] + ticks[4]  # idle + iowait
        return sum(ticks[:8]) - idle, sum(ticks[:8])

    busy1, total1 = busy_and_total()
    time.sleep(seconds)
    busy2, total2 = busy_and_total()
    return f"{100 * (busy2 - busy1) / max(total2 - total1, 1):.0f}"


@dataclass(frozen=True, slots=True)
class CpuUse:
    """Where the CPU went during one measurement."""

    others: str
    """% of all cores used by processes that are not ours (other tenants of the machine)."""
    service_seconds: float
    """CPU seconds of the service's process group (its workers)."""
    postgres_seconds: float
    """CPU seconds of PostgreSQL: our database's backends and the background processes."""

    def per_request(self, requests: int) -> tuple[float | None, float | None]:
        """CPU ms per request of the service and of PostgreSQL (None without requests): unlike
        req/s these barely move when other tenants take CPU, so they compare runs on a noisy box."""
        if not requests:
            return None, None
        return 1000 * self.service_seconds / requests, 1000 * self.postgres_seconds / requests


class CpuMeter:
    """CPU used between ``start`` and ``stop``, split into the service's, PostgreSQL's, and that
    of processes that are not ours. Ours: this run's session, every process group it started,
    kernel threads, and PostgreSQL's backends of our database plus its background processes.
    Processes that exit inside the window are missed, so every figure is a lower bound."""

    def __init__(self, run: Run, started: float, before: dict[int, ProcessCpu]) -> None:
        self.run, self.started, self.before = run, started, before

    @classmethod
    def start(cls, run: Run) -> CpuMeter:
        """Begin the window now."""
        return cls(run, time.monotonic(), process_table())

    def stop(self) -> CpuUse:
        """End the window: where the CPU went since ``start``."""
        after, wall = process_table(), max(time.monotonic() - self.started, 1e-3)
        ours = self.run.our_sessions
        postgres = postgres_pids(self.run.cfg)
        service = self.run.children.pid("service")
        others = service_s = postgres_s = 0.0
        for pid, now in after.items():
            was = self.before.get(pid)
            spent = max(now.ticks - (was.ticks if was else 0), 0) / CLOCK_TICKS
            if now.session == service:
                service_s += spent
            elif pid in postgres:
                postgres_s += spent
            kernel = KTHREADD in (pid, now.ppid)
            if not (now.session in ours or kernel or pid in postgres):
                others += spent
        share = 100 * others / wall / (os.cpu_count() or 1)
        return CpuUse(f"{share:.0f}", service_s, postgres_s)
