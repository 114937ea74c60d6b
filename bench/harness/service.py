"""The service as it runs in production: `todo-api serve` with uvicorn workers, own group."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from harness.log import log
from harness.run import Run
from tests.process_groups import TimedOut, answers_health, wait_until

START_SECONDS = 90
"""Under heavy load, importing the app in every worker alone can take 20 s."""


class Service:
    """`todo-api serve` on the run's port; each start logs to service-<n>.log."""

    def __init__(self, run: Run) -> None:
        self.run, self.starts = run, 0

    @property
    def log_path(self) -> Path:
        """The log of the latest start."""
        return self.run.logdir / f"service-{self.starts}.log"

    def start(self) -> None:
        """Start it and wait for /health; RuntimeError if it exits or never answers."""
        cfg = self.run.cfg
        self.starts += 1
        argv = [*cfg.todo_api, "serve", "--host", "127.0.0.1", "--port", str(cfg.port),
                "--workers", str(cfg.workers)]
        with self.log_path.open("wb") as out:  # the child keeps its own descriptor
            process = self.run.children.start("service", argv, out, cfg.todo_api_env())
        log(f"started service (pid {process.pid}): {' '.join(argv)}")

        def answers() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"service exited (rc={process.returncode}) during start-up; "
                                   f"log: {self.log_path}\n{self.log_tail()}")
            return self.healthy()

        try:
            wait_until(answers, seconds=START_SECONDS, what="/health", interval=0.2)
        except TimedOut:
            raise RuntimeError(f"service did not answer /health within {START_SECONDS} s\n"
                               + self.log_tail()) from None
        time.sleep(1.0)  # let the other workers finish importing

    def log_tail(self) -> str:
        """The end of the latest start's log."""
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-3000:]
        return ""

    def healthy(self) -> bool:
        """Whether /health answers 200 within 2 s."""
        return answers_health(self.run.cfg.base_url, timeout=2)

    def drain(self, limit: float = 30.0) -> float:
        """Wait until requests queued by a finished wrk run are worked off (wrk closes its
        connections, but the workers still serve what was accepted): /health must answer
        in < 100 ms three times in a row. Returns the seconds waited."""
        started = time.monotonic()
        fast = 0
        while fast < 3 and time.monotonic() - started < limit:
            asked = time.monotonic()
            fast = fast + 1 if self.healthy() and time.monotonic() - asked < 0.1 else 0
            time.sleep(0.1)
        return time.monotonic() - started

    def alive(self) -> bool:
        """Running and answering /health within 10 tries a second apart."""
        if not self.run.children.alive("service"):
            return False
        for _ in range(10):
            if self.healthy():
                return True
            time.sleep(1)
        return False

    def stop(self) -> None:
        """Stop its whole process group (TERM, KILL after 10 s)."""
        self.run.children.stop("service")
        log("stopped service")
