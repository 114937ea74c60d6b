"""The CLI as people run it: a real uvicorn process, development tokens, migrations."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.processes import ROOT, service
from tests.support import TEST_SECRET

BASIC_ENV = {"PYTHONPATH": str(ROOT)}


def _cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    return subprocess.run([sys.executable, "-m", "app.cli", *args],
                          env={**environment, **BASIC_ENV, **env}, cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


def test_serve_with_no_configuration_prints_a_working_token(tmp_path: Path):
    with service({}, tmp_path / "first.log", cwd=tmp_path, clean=True) as first:
        banner = first.stop()
    match = re.search(r"export TOKEN=(\S+)", banner)
    assert match, banner
    assert "curl" in banner
    assert "/api/demo-user/tasks" in banner
    assert (tmp_path / ".data" / "todo.db").exists()
    with service({}, tmp_path / "second.log", cwd=tmp_path, clean=True) as second:
        headers = {"Authorization": f"Bearer {match.group(1)}"}
        created = httpx.post(f"{second.url}/api/demo-user/tasks", json={"title": "first"},
                             headers=headers, timeout=10)
        assert created.status_code == 201, created.text
        listed = httpx.get(f"{second.url}/api/demo-user/tasks", headers=headers, timeout=10)
        assert [t["title"] for t in listed.json()] == ["first"]


def test_token_command_mints_tokens_the_server_accepts(database_url: str, tmp_path: Path):
    env = {"DATABASE_URL": database_url, "BETTER_AUTH_SECRET": TEST_SECRET}
    minted = _cli("token", "cli-user-1", "--email", "c@example.com", env=env, cwd=tmp_path)
    assert minted.returncode == 0, minted.stderr
    headers = {"Authorization": f"Bearer {minted.stdout.strip()}"}
    with service(env, tmp_path / "serve.log", cwd=tmp_path, clean=True) as running:
        base = running.url
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
        deleted = httpx.delete(f"{base}/api/cli-user-1/tasks/{created.json()['id']}",
                               headers=headers, timeout=10)
        assert deleted.status_code == 204


def test_migrate_command_creates_the_schema(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = _cli("migrate", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "fresh.db") as connection:
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
    assert {"users", "tasks", "ix_tasks_user_id_created_at", "ix_tasks_user_id_status",
            "ix_tasks_user_id_due_date"} <= tables


@pytest.mark.parametrize("args", [["token"], ["nonsense"]])
def test_cli_usage_errors_exit_non_zero(args, tmp_path: Path):
    assert _cli(*args, env={}, cwd=tmp_path).returncode == 2
