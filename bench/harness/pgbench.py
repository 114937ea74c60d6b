"""The pgbench ceiling: the SQL a request needs, sent straight to PostgreSQL (bench/pgbench/)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness import BENCH_DIR
from harness.cpu import CpuMeter, host_busy, pinned
from harness.log import log
from harness.report import Row, percentile
from harness.run import Run
from harness.scenarios import HEAVY_PAGE, ceiling_scripts, heavy_pages


@dataclass(frozen=True, slots=True)
class Summary:
    """What pgbench reports at the end; None where it did not say."""

    tps: float | None = None
    failed: int | None = None
    transactions: int | None = None


def parse_summary(out: str) -> Summary:
    """tps, failed and processed transactions from pgbench's output."""
    tps = failed = transactions = None
    for line in out.splitlines():
        if line.startswith("tps = "):
            tps = float(line.split()[2])
        elif line.startswith("number of failed transactions:"):
            failed = int(line.split(":")[1].split()[0])
        elif line.startswith("number of transactions actually processed:"):
            transactions = int(line.split(":")[1].split("/")[0])
    return Summary(tps, failed, transactions)


def take_latencies(logdir: Path, script: str) -> list[float]:
    """Every transaction's latency in ms from pgbench's -l logs (deleted after), sorted."""
    latencies: list[float] = []
    for log_file in logdir.glob(f"pgbench-{script}.*"):
        if log_file.suffix == ".out":
            continue
        with log_file.open() as lines:
            latencies.extend(int(line.split()[2]) / 1000 for line in lines if line.strip())
        log_file.unlink()
    return sorted(latencies)


def run_pgbench(run: Run, script: str) -> Row:
    """One script for PGBENCH_DURATION s with PGBENCH_CLIENTS clients, pinned like wrk."""
    cfg = run.cfg
    argv = [*pinned(cfg), "pgbench", "-h", cfg.pg_host, "-p", str(cfg.pg_port),
            "-U", cfg.pg_user, "-n", "-M", cfg.pgbench_protocol,
            "-c", str(cfg.pgbench_clients), "-j", "2", "-T", str(cfg.pgbench_duration),
            "-D", f"nusers={cfg.n_users}", "-D", f"ntasks={cfg.tasks_per_user}",
            "-D", f"heavypage={HEAVY_PAGE}", "-D", f"heavypages={heavy_pages(cfg.heavy_tasks)}",
            "-l", f"--log-prefix={run.logdir / f'pgbench-{script}'}",
            "-f", str(BENCH_DIR / "pgbench" / f"{script}.sql"), cfg.db]
    busy = host_busy() if cfg.busy_sample else "-"
    meter = CpuMeter.start(run)
    rc, out = run.children.run(f"pgbench-{script}", argv, cfg.pgbench_duration + 60)
    cpu = meter.stop()
    (run.logdir / f"pgbench-{script}.out").write_text(out)
    summary = parse_summary(out)
    latencies = take_latencies(run.logdir, script)
    svc_ms, pg_ms = cpu.per_request(summary.transactions or 0)
    row = Row(
        scenario=f"pgbench:{script}",
        conns=cfg.pgbench_clients,
        req_s=summary.tps or 0.0,
        p50=percentile(latencies, 0.50) if latencies else None,
        p95=percentile(latencies, 0.95) if latencies else None,
        p99=percentile(latencies, 0.99) if latencies else None,
        errors=summary.failed if summary.failed is not None else "?",
        requests=summary.transactions or 0,
        busy=busy,
        others=cpu.others,
        svc_ms=svc_ms,
        pg_ms=pg_ms,
        note="-" if rc == 0 else f"pgbench_rc={rc}",
    )
    log(f"  pgbench {script}: {row.req_s:.0f} tps, p99 {row.p99 or 0:.2f} ms, "
        f"failed {row.errors}")
    return row


def measure_ceilings(run: Run, rows: list[Row]) -> dict[str, float]:
    """Every script the run's scenarios need, each row appended to ``rows`` as it is measured
    (so an interrupted run still reports them); script -> tps of those that ran."""
    cfg = run.cfg
    scripts = ceiling_scripts(cfg.scenarios)
    log(f"pgbench ceiling: {', '.join(scripts)} (-c {cfg.pgbench_clients} -j 2 "
        f"-T {cfg.pgbench_duration} -M {cfg.pgbench_protocol})")
    tps = {}
    for script in scripts:
        row = run_pgbench(run, script)
        rows.append(row)
        if row.req_s:
            tps[script] = row.req_s
    return tps
