"""Real processes for tests: the service under uvicorn, a Redis server, a PostgreSQL cluster.

Starting, waiting for and stopping process groups is ``tests.process_groups``, which the
benchmark (bench/harness) uses too.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.process_groups import (
    answers_health,
    free_port,
    kill_group,
    start_group,
    stop_group,
    wait_until,
)
from tests.support import TEST_SECRET

__all__ = ["PG_BIN", "ROOT", "PostgresCluster", "RedisServer", "Service", "free_port", "service",
           "wait_until"]

ROOT = Path(__file__).parent.parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")


class Service:
    """``todo-api serve`` in its own process group, logging to a file.

    By default it inherits the test environment with a development secret and does not migrate;
    ``clean=True`` starts it as a newcomer would: no configuration at all, migrating on start.
    Standard error goes to the same log unless ``stderr_path`` is given; ``port_in_env`` passes
    the port as ``PORT`` instead of ``--port``. ``workers=None`` leaves the worker count to the
    environment (``WEB_CONCURRENCY``).
    """

    def __init__(self, env: dict[str, str], log_path: Path, workers: int | None = 1, *,
                 cwd: Path = ROOT, clean: bool = False, args: Sequence[str] = (),
                 stderr_path: Path | None = None, port_in_env: bool = False) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = log_path.open("wb")
        self._stderr = stderr_path.open("wb") if stderr_path else None
        if clean:
            environment = {k: v for k, v in os.environ.items() if k in _BASIC_ENV}
            environment |= {"PYTHONPATH": str(ROOT), **env}
            mode = ["--migrate"]
        else:
            environment = {k: v for k, v in os.environ.items()
                           if not k.startswith(("PROMETHEUS_", "HTTP_")) and k != "PORT"}
            environment |= {"APP_ENV": "development", "BETTER_AUTH_SECRET": TEST_SECRET, **env}
            mode = ["--no-migrate"]
        if port_in_env:
            environment["PORT"] = str(self.port)
        else:
            mode += ["--port", str(self.port)]
        self.process = start_group(
            [sys.executable, "-m", "app.cli", "serve", *mode,
             *([] if workers is None else ["--workers", str(workers)]), *args],
            cwd=cwd, env=environment, stdout=self._log, stderr=self._stderr or subprocess.STDOUT,
        )
        try:
            wait_until(self._healthy, seconds=60, what=f"the service on port {self.port}")
        except AssertionError:
            self.stop()
            raise

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the service exited:\n{self.log_path.read_text()}")
        return answers_health(self.url, timeout=1)

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: the service itself, or its worker processes."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        workers = [int(pid) for pid in children.read_text().split()
                   if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        return workers or [self.process.pid]

    def log_lines(self) -> list[dict[str, Any]]:
        text = self.log_path.read_text()
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]

    def kill(self) -> str:
        """SIGKILL the whole process group at once: nothing gets to finish (idempotent)."""
        kill_group(self.process)
        return self.stop()

    def stop(self) -> str:
        """Stop the whole process group (idempotent) and return everything it wrote."""
        stop_group(self.process, grace=15)
        self._log.close()
        if self._stderr:
            self._stderr.close()
        return self.log_path.read_text()


_BASIC_ENV = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}


@contextmanager
def service(env: dict[str, str], log_path: Path, workers: int | None = 1, **options: Any
            ) -> Iterator[Service]:
    """A running ``Service`` (options as for it), stopped on leaving."""
    running = Service(env, log_path, workers, **options)
    try:
        yield running
    finally:
        running.stop()


class RedisServer:
    """A private redis-server (no persistence) that a test may stop and start again.

    With ``tls`` (a certificate and key) it speaks only TLS, and ``url`` is a rediss:// URL.
    """

    def __init__(self, *, tls: tuple[Path, Path] | None = None) -> None:
        self.port = free_port()
        self.tls = tls
        self.url = f"{'rediss' if tls else 'redis'}://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        listen = ["--port", str(self.port)]
        if self.tls:
            cert, key = self.tls
            listen = ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", str(cert),
                      "--tls-key-file", str(key), "--tls-auth-clients", "no"]
        self.process = subprocess.Popen(
            ["redis-server", *listen, "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_until(self._answers, what="redis-server")

    def _answers(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as plain:
            sock = plain
            if self.tls:  # only "is it up?": the tests themselves check certificates
                unverified = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                unverified.check_hostname = False
                unverified.verify_mode = ssl.CERT_NONE
                sock = unverified.wrap_socket(plain)
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)
            self.process = None


class PostgresCluster:
    """A throwaway PostgreSQL cluster (initdb + pg_ctl) on a spare port, run as ``postgres``."""

    def __init__(self, *, listen: str = "127.0.0.1") -> None:
        self.listen = listen
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="todo-outage-"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as_postgres(PG_BIN / "initdb", "-D", self.data, "-A", "trust", "-U", "postgres",
                          "--no-sync", "--no-instructions")

    def _as_postgres(self, *command: object) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *map(str, command)], check=True,
                       capture_output=True, timeout=120)

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses={self.listen} -k {self.dir} "
                   "-c fsync=off -c full_page_writes=off")
        self._as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.dir / "server.log",
                          "-o", options, "-w", "start")

    def configure(self, settings: dict[str, str], hba: list[str]) -> None:
        """Add server settings (before ``start``) and replace who may connect how (pg_hba)."""
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{name} = '{value}'\n" for name, value in settings.items())
        (self.data / "pg_hba.conf").write_text("".join(f"{line}\n" for line in hba))

    def stop(self, mode: str = "immediate") -> None:
        self._as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def remove(self) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D",
                        str(self.data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, timeout=60, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
