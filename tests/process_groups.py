"""Process groups, shared by the tests and the benchmark: start, wait for, stop.

A command started here leads a session and process group of its own, so stopping it reaches
everything it forked (uvicorn's workers, wrk's threads). Only the standard library and httpx:
the benchmark imports this module without importing the service it measures.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

import httpx

Process = subprocess.Popen[bytes]


class TimedOut(AssertionError):
    """What was waited for did not happen in time (an ``AssertionError``, so tests fail)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something already accepts connections on ``host:port``."""
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) == 0


def wait_until(check: Callable[[], object], *, seconds: float = 20.0, what: str = "condition",
               interval: float = 0.1) -> None:
    """Poll ``check()`` until it is true; raise ``TimedOut`` after ``seconds``.

    A connection error inside ``check`` counts as "not yet"; any other exception ends the wait.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(interval)
    raise TimedOut(f"timed out waiting for {what}")


def answers_health(base_url: str, *, timeout: float) -> bool:
    """Whether ``GET {base_url}/health`` answers 200 within ``timeout`` seconds."""
    try:
        return httpx.get(f"{base_url}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def start_group(argv: Sequence[str], *, cwd: Path, stdout: IO[bytes] | int,
                stderr: IO[bytes] | int = subprocess.STDOUT,
                env: Mapping[str, str] | None = None) -> Process:
    """Start ``argv`` as the leader of a new session and process group, stdin closed."""
    return subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=stdout,
                            stderr=stderr, start_new_session=True)


def stop_group(process: Process, *, grace: float) -> None:
    """TERM the process's group, wait up to ``grace`` seconds, then KILL what is left of it.

    The group can outlive its leader (uvicorn's workers), hence the KILL even after the
    leader has exited. Safe to call again.
    """
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace)
    kill_group(process)


def kill_group(process: Process) -> None:
    """SIGKILL the process's whole group at once and reap the leader: nothing gets to finish."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(10)
