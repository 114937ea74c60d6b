"""The CLI as people run it: a real uvicorn process, development tokens, migrations."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from persistence.migrate import head_revisions
from tests.processes import ROOT, free_port, service
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


# --- what an operator runs -----------------------------------------------------------------------

def test_ready_is_503_with_the_reason_until_the_database_is_migrated(
        unmigrated_database_url: str, tmp_path: Path):
    env = {"DATABASE_URL": unmigrated_database_url}
    if unmigrated_database_url.startswith("postgresql"):  # production refuses SQLite
        env["APP_ENV"] = "production"  # which does not migrate on start
    with service(env, tmp_path / "serve.log", stderr_path=tmp_path / "stderr.log") as running:
        before = httpx.get(f"{running.url}/ready", timeout=10)
        migrated = _cli("migrate", env={"DATABASE_URL": unmigrated_database_url}, cwd=tmp_path)
        after = httpx.get(f"{running.url}/ready", timeout=10)
    reason = ("the database schema is at revision (none: never migrated), the code needs "
              f"{', '.join(sorted(head_revisions()))}: run `todo-api migrate`")
    assert (before.status_code, before.headers["retry-after"]) == (503, "5")
    assert before.json() == {"status": "unavailable", "database": "not_migrated",
                             "reason": reason}
    assert migrated.returncode == 0, migrated.stderr
    assert (after.status_code, after.json()) == (200, {"status": "ready", "database": "ok"})
    said = [line for line in (tmp_path / "stderr.log").read_text().splitlines()
            if line.startswith("todo-api:")]
    assert said == [f"todo-api: {reason}; /ready answers 503 until then"]


def test_migrate_against_an_unreachable_database_prints_one_line(tmp_path: Path):
    url = f"postgresql://postgres:hunter2-secret@127.0.0.1:{free_port()}/todo"
    result = _cli("migrate", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("todo-api: cannot migrate the database at postgresql+asyncpg://"
                           "postgres:***@127.0.0.1:"), line
    assert "hunter2-secret" not in result.stderr


def test_token_elsewhere_refuses_and_says_where_it_looked(tmp_path: Path):
    result = _cli("token", "alice", env={}, cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert f"no development secret at {tmp_path / '.data' / 'dev-secret'}" in line
    assert "TODO_API_DATA_DIR" in line
    assert result.stdout == ""
    assert not (tmp_path / ".data").exists()  # no second secret that no server knows


def test_token_finds_the_servers_secret_through_its_data_dir(tmp_path: Path):
    (tmp_path / "server").mkdir()
    (tmp_path / "elsewhere").mkdir()
    with service({}, tmp_path / "serve.log", cwd=tmp_path / "server", clean=True) as running:
        minted = _cli("token", "alice", cwd=tmp_path / "elsewhere",
                      env={"TODO_API_DATA_DIR": str(tmp_path / "server" / ".data")})
        headers = {"Authorization": f"Bearer {minted.stdout.strip()}"}
        listed = httpx.get(f"{running.url}/api/alice/tasks", headers=headers, timeout=10)
    assert minted.returncode == 0, minted.stderr
    assert listed.status_code == 200, listed.text


def test_serve_listens_on_the_port_in_PORT(tmp_path: Path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'todo.db'}"}
    with service(env, tmp_path / "serve.log", port_in_env=True) as running:
        assert httpx.get(f"{running.url}/health", timeout=10).status_code == 200


def test_make_run_passes_its_port_to_serve():
    planned = subprocess.run(["make", "-n", "run", "PORT=8001"], cwd=ROOT, capture_output=True,
                             text=True, timeout=60, check=True)
    assert "todo-api serve --port 8001" in planned.stdout


def test_version_is_the_package_version(tmp_path: Path):
    result = _cli("--version", env={}, cwd=tmp_path)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert (result.returncode, result.stdout) == (0, f"todo-api {project['version']}\n")


@pytest.mark.parametrize("command", [[], ["serve"], ["migrate"], ["token"], ["export-schema"]])
def test_every_option_in_the_help_states_its_default(command: list[str], tmp_path: Path):
    result = _cli(*command, "--help", env={}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    options = re.split(r"\n(?=  -)", result.stdout.split("options:", 1)[1])
    described = [" ".join(option.split()) for option in options if option.strip()]
    for option in described:
        if not option.startswith(("-h, --help", "--version")):
            assert "default" in option, option


def test_two_workers_share_metrics_without_any_set_up(tmp_path: Path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'todo.db'}"}
    with service(env, tmp_path / "serve.log", workers=2) as running:
        directories = {_environment(pid).get("PROMETHEUS_MULTIPROC_DIR")
                       for pid in running.worker_pids()}
        for _ in range(20):
            httpx.get(f"{running.url}/health", timeout=10)
        counts = {_health_count(httpx.get(f"{running.url}/metrics", timeout=10).text)
                  for _ in range(6)}
        [directory] = directories
        assert directory and Path(directory).is_dir()
    assert counts == {21}  # ours and the start-up probe that succeeded, whichever worker answers
    assert not Path(directory).exists()  # removed at exit


def _environment(pid: int) -> dict[str, str]:
    entries = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(entry.decode().split("=", 1) for entry in entries if b"=" in entry)


def _health_count(exposition: str) -> float:
    return sum(sample.value for family in text_string_to_metric_families(exposition)
               for sample in family.samples
               if sample.name == "todo_api_http_requests_total"
               and sample.labels["route"] == "/health")


def test_every_line_on_stdout_is_json_without_terminal_escapes(tmp_path: Path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'todo.db'}"}
    with service(env, tmp_path / "stdout.log", workers=2,
                 stderr_path=tmp_path / "stderr.log") as running:
        httpx.get(f"{running.url}/nowhere", timeout=10)
    lines = (tmp_path / "stdout.log").read_bytes().splitlines()
    parsed = [json.loads(line) for line in lines]
    assert not [line for line in lines if b"\x1b" in line or b"\\u001b" in line]
    assert not [line for line in parsed if "color_message" in line]
    messages = [line["message"] for line in parsed]
    assert any(m.startswith("Uvicorn running on http://127.0.0.1:") for m in messages), messages
    assert any(line.get("route") == "unmatched" for line in parsed)
