"""One scenario, one row: warm-up, host sample, wrk under the CPU meter, drain, notes."""

from __future__ import annotations

from collections.abc import Mapping

from harness.cpu import CpuMeter, host_busy
from harness.database import clean_after_writes
from harness.log import log
from harness.report import Row
from harness.run import Run
from harness.scenarios import WRITES, ceiling, request_kinds
from harness.service import Service
from harness.wrk import parse_wrk, run_wrk


def measure_scenarios(run: Run, service: Service, tps: Mapping[str, float],
                      fails: Mapping[str, str], rows: list[Row]) -> None:
    """Every scenario of the run in order, each row appended to ``rows`` as it is measured
    (so an interrupted run still reports them). ``tps``: the pgbench ceilings by script;
    ``fails``: the request kinds that failed their preflight."""
    for scenario, conns in run.cfg.scenarios:
        limit = ceiling(scenario, tps)
        bad = [f"{kind}: {fails[kind]}" for kind in request_kinds(scenario) if kind in fails]
        if bad:
            rows.append(Row(scenario=scenario, conns=conns, req_s=None, p50=None, p95=None,
                            p99=None, errors="PREFLIGHT_FAIL", requests=0, ceiling=limit,
                            note="preflight failed", error_detail="; ".join(bad)[:300]))
            continue
        if not service.alive():
            log("service is not healthy; restarting it")
            service.stop()
            service.start()
        rows.append(measure_scenario(run, service, scenario, conns, limit))
        if scenario in WRITES:
            clean_after_writes(run.cfg)


def measure_scenario(run: Run, service: Service, scenario: str, conns: int,
                     limit: float | None) -> Row:
    """``WARMUP`` s of unmeasured load, then ``DURATION`` s measured; ``limit``: its ceiling."""
    cfg = run.cfg
    log(f"{scenario} @ {conns} conns")
    if cfg.warmup > 0:
        run_wrk(run, scenario, conns, cfg.warmup, latency=False)
        service.drain()
    busy = host_busy() if cfg.busy_sample else "-"
    meter = CpuMeter.start(run)
    rc, out = run_wrk(run, scenario, conns, cfg.duration)
    cpu = meter.stop()
    (run.logdir / f"wrk-{scenario}-c{conns}.out").write_text(out)
    res = parse_wrk(out)
    notes = []
    drained = service.drain()
    if drained > 2:
        notes.append(f"backlog_drained_in_{drained:.0f}s")
    if rc != 0 or res.errors == "?":
        notes.append(f"wrk_rc={rc}")
        log(out[-1500:])
    if res.busy_conns and res.busy_conns < conns * 0.85:
        notes.append(f"only_{res.busy_conns:.0f}_of_{conns}_conns_active")
    if not service.alive():
        notes.append("service_unhealthy_after")
    svc_ms, pg_ms = cpu.per_request(res.requests or 0)
    log(f"  -> {res.req_s:.1f} req/s p50={res.p50} p95={res.p95} p99={res.p99} "
        f"errors={res.errors} ({res.error_detail}) n={res.requests}")
    return Row(scenario=scenario, conns=conns, req_s=res.req_s, p50=res.p50, p95=res.p95,
               p99=res.p99, errors=res.errors, requests=res.requests, ceiling=limit, busy=busy,
               others=cpu.others, svc_ms=svc_ms, pg_ms=pg_ms, note=",".join(notes) or "-",
               error_detail=res.error_detail)
