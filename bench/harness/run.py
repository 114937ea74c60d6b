"""One run: its knobs, its log directory, and every process group it started."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

from harness.config import Config
from harness.log import log
from harness.report import git_rev
from tests.process_groups import Process, start_group, stop_group


def exit_on_signals() -> None:
    """SIGTERM and SIGHUP exit through the program's clean-up (``finally``) with status 128 +
    the signal's number; Ctrl-C raises KeyboardInterrupt even when started in the background."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGHUP, _exit)


def _exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


@dataclass
class Children:
    """The process groups a run started, by name, so that it can stop every one of them.

    They run in ``workdir`` (the run's log directory, not the checkout, so that no developer
    .env is read by the service: pydantic-settings reads ./.env; every setting is explicit).
    """

    workdir: Path
    running: dict[str, Process] = field(default_factory=dict)
    sessions: set[int] = field(default_factory=set)
    """Session ids of everything ever started (their CPU is ours, not other tenants')."""

    def start(self, name: str, argv: list[str], out: IO[bytes] | int,
              env: dict[str, str] | None = None) -> Process:
        """Start ``argv`` in a process group of its own, known as ``name``."""
        process = start_group(argv, cwd=self.workdir, stdout=out, env=env)
        self.running[name] = process
        self.sessions.add(process.pid)
        return process

    def pid(self, name: str) -> int | None:
        """The pid (= process group and session id) of ``name`` if it was started, else None."""
        process = self.running.get(name)
        return None if process is None else process.pid

    def alive(self, name: str) -> bool:
        """Whether ``name`` was started and its leader has not exited."""
        process = self.running.get(name)
        return process is not None and process.poll() is None

    def stop(self, name: str, grace: float = 10.0) -> None:
        """TERM ``name``'s group, KILL what is left after ``grace`` seconds; no-op if unknown."""
        process = self.running.pop(name, None)
        if process is not None:
            stop_group(process, grace=grace)

    def stop_all(self) -> None:
        """Stop every group still running."""
        for name in list(self.running):
            self.stop(name)

    def run(self, name: str, argv: list[str], timeout: float,
            env: dict[str, str] | None = None) -> tuple[int, str]:
        """Run a tool to completion within ``timeout`` s: (exit status, output); 124 if killed."""
        process = self.start(name, argv, subprocess.PIPE, env)
        try:
            out, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            log(f"{name}: still running after {timeout:.0f} s, killing it")
            self.stop(name, grace=2)
            return 124, ""
        self.running.pop(name, None)
        return process.returncode, out.decode(errors="replace")


@dataclass
class Run:
    """What the steps of a run share: the knobs, where logs go, what was started."""

    cfg: Config
    logdir: Path
    children: Children

    @classmethod
    def open(cls, cfg: Config, logdir: Path) -> Run:
        """A run logging to ``logdir`` (created), its children started there."""
        logdir.mkdir(parents=True, exist_ok=True)
        return cls(cfg, logdir, Children(workdir=logdir))

    @property
    def users_file(self) -> Path:
        """users.txt: '<user_id> <jwt> <10 task ids>' per line (bench.lua reads it)."""
        return self.logdir / "users.txt"

    @property
    def our_sessions(self) -> set[int]:
        """Session ids whose CPU is this run's: the driver's own and every group it started."""
        return {os.getsid(0), *self.children.sessions}

    def write_meta(self) -> str:
        """meta.json: every knob but the secret, and the git revision (returned)."""
        meta = {k: v for k, v in asdict(self.cfg).items() if k != "secret"}
        meta["git"] = git_rev()
        (self.logdir / "meta.json").write_text(json.dumps(meta, indent=1, default=str))
        return str(meta["git"])
