"""`todo-api serve` as a container runs it: worker count and shutdown bound from the environment."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import httpx

from tests.processes import Service, service
from tests.support import auth, token


def _started_workers(running: Service) -> int:
    return sum(1 for line in running.log_lines()
               if line["message"].startswith("Started server process"))


def test_serve_starts_web_concurrency_workers(tmp_path: Path):
    env = {"WEB_CONCURRENCY": "2", "DATABASE_URL": f"sqlite:///{tmp_path / 'todo.db'}"}
    with service(env, tmp_path / "serve.log", workers=None) as running:
        running.stop()
        assert _started_workers(running) == 2


def test_serve_without_web_concurrency_starts_one_worker(tmp_path: Path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'todo.db'}"}
    with service(env, tmp_path / "serve.log", workers=None) as running:
        running.stop()
        assert _started_workers(running) == 1


def test_serve_cancels_requests_still_running_after_the_shutdown_timeout(tmp_path: Path):
    env = {"SHUTDOWN_TIMEOUT_SECONDS": "1", "RATE_LIMIT": "1/minute",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'todo.db'}"}
    with service(env, tmp_path / "serve.log") as running, \
            socket.create_connection(("127.0.0.1", running.port)) as client:
        # A create whose body never arrives stays in flight until shutdown cancels it.
        client.sendall(f"POST /api/tasks HTTP/1.1\r\nHost: test\r\n"
                       f"Authorization: Bearer {token('slow-writer')}\r\n"
                       f"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
                       .encode())
        # The user's only request of the minute is spent: so the create has reached the app.
        assert httpx.get(f"{running.url}/api/tasks", headers=auth("slow-writer")).status_code == 429
        running.stop()
        assert running.process.returncode != -signal.SIGKILL  # it ended by itself
        messages = [line["message"] for line in running.log_lines()]
        assert "Cancel 1 running task(s), timeout graceful shutdown exceeded" in messages
