"""The CLI as people run it: a real uvicorn process, development tokens, migrations."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support import TEST_SECRET

ROOT = Path(__file__).resolve().parent.parent
CLEAN_ENV = {k: v for k, v in os.environ.items()
             if k in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV"}}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], env=_with_path(env), cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


def _with_path(env: dict[str, str]) -> dict[str, str]:
    return {**env, "PYTHONPATH": str(ROOT)}


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self, sig: int = signal.SIGTERM) -> str:
        """Stop the server (idempotent) and return what it wrote to stderr."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        self.process.wait(timeout=30)
        return self.log.read_text()


@contextmanager
def serving(env: dict[str, str], cwd: Path) -> Iterator[Server]:
    """``todo-api serve`` in its own process group, until the block ends."""
    port = _free_port()
    log = cwd / f"serve-{port}.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
            env=_with_path(env), cwd=cwd, stdout=subprocess.DEVNULL, stderr=stderr,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_up(server)
        yield server
    finally:
        server.stop()


def _wait_until_up(server: Server) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"server exited: {server.log.read_text()}")
        try:
            if httpx.get(f"{server.base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("server did not start within 60 s")


def test_serve_with_no_configuration_prints_a_working_token(tmp_path: Path):
    with serving(CLEAN_ENV, tmp_path) as server:
        banner = server.stop()
    match = re.search(r"export TOKEN=(\S+)", banner)
    assert match, banner
    assert "curl" in banner and "/api/demo-user/tasks" in banner
    assert (tmp_path / ".data" / "todo.db").exists()
    with serving(CLEAN_ENV, tmp_path) as server:
        base = server.base
        headers = {"Authorization": f"Bearer {match.group(1)}"}
        created = httpx.post(f"{base}/api/demo-user/tasks", json={"title": "first"},
                             headers=headers, timeout=10)
        assert created.status_code == 201, created.text
        listed = httpx.get(f"{base}/api/demo-user/tasks", headers=headers, timeout=10)
        assert [t["title"] for t in listed.json()] == ["first"]


def test_token_command_mints_tokens_the_server_accepts(database_url: str, tmp_path: Path):
    env = {**CLEAN_ENV, "DATABASE_URL": database_url, "BETTER_AUTH_SECRET": TEST_SECRET}
    minted = _cli("token", "cli-user-1", "--email", "c@example.com", env=env, cwd=tmp_path)
    assert minted.returncode == 0, minted.stderr
    headers = {"Authorization": f"Bearer {minted.stdout.strip()}"}
    with serving({**env, "APP_ENV": "development"}, tmp_path) as server:
        base = server.base
        created = httpx.post(f"{base}/api/cli-user-1/tasks/", json={"title": "via uvicorn"},
                             headers=headers, timeout=10)
        assert created.status_code == 201, created.text
        task = httpx.get(f"{base}/api/cli-user-1/tasks/{created.json()['id']}", headers=headers,
                         timeout=10)
        assert task.json()["title"] == "via uvicorn"
        assert task.headers["etag"] == '"1"'
        foreign = httpx.get(f"{base}/api/someone-else/tasks", headers=headers, timeout=10)
        assert foreign.status_code == 403
        assert httpx.get(f"{base}/ready", timeout=10).json()["database"] == "ok"


def test_migrate_command_creates_the_schema(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = _cli("migrate", env={**CLEAN_ENV, "DATABASE_URL": url}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "fresh.db") as connection:
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
    assert {"users", "tasks", "ix_tasks_user_id_created_at", "ix_tasks_user_id_status",
            "ix_tasks_user_id_due_date"} <= tables


@pytest.mark.parametrize("args", [["token"], ["nonsense"]])
def test_cli_usage_errors_exit_non_zero(args, tmp_path: Path):
    assert _cli(*args, env=CLEAN_ENV, cwd=tmp_path).returncode == 2
