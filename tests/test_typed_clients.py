"""Typed clients keep working: TypeScript types generated as frontends generate them type-check
the calls the frontends and the chatbot make, and a wrong field name fails the check.

REST types come from the live /openapi.json of a running server (openapi-typescript, used with
openapi-fetch); GraphQL types from schema.graphql (graphql-codegen's client preset). The npm
packages are pinned in clients/typescript/package-lock.json and installed once into its
node_modules; without Node.js and npm these tests fail, they never skip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.processes import ROOT, service

CLIENTS = ROOT / "clients" / "typescript"
TOOL_TIMEOUT_SECONDS = 120
NPM_CI_TIMEOUT_SECONDS = 600
TS_ERROR = re.compile(r"^(?P<file>[^(\s]+)\(\d+,\d+\): error (?P<code>TS\d+): (?P<message>.*)$")


def install(project: Path) -> None:
    """``npm ci`` in ``project`` unless its node_modules already matches the lock file."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"the typed-client tests need Node.js and npm; missing: {', '.join(missing)}",
                    pytrace=False)
    installed = project / "node_modules" / ".package-lock.json"
    lock = project / "package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return
    result = subprocess.run(
        ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=project, capture_output=True, text=True, timeout=NPM_CI_TIMEOUT_SECONDS, check=False)
    if result.returncode != 0:
        pytest.fail(f"`npm ci` in {project} failed:\n{result.stderr[-2000:]}", pytrace=False)


def run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run an npm-installed ``tool`` of the client project in it; the output is plain text."""
    return subprocess.run(
        [str(CLIENTS / "node_modules" / ".bin" / tool), *args], cwd=CLIENTS,
        capture_output=True, text=True, timeout=TOOL_TIMEOUT_SECONDS, check=False,
        env={**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"})


def type_errors(result: subprocess.CompletedProcess[str]) -> list[tuple[str, str, str]]:
    """``tsc --pretty false`` diagnostics as (file, code, message)."""
    return [(m["file"], m["code"], m["message"]) for line in result.stdout.splitlines()
            if (m := TS_ERROR.match(line))]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Types generated from a running server's /openapi.json and from schema.graphql."""
    install(CLIENTS)
    output = CLIENTS / "generated"
    shutil.rmtree(output, ignore_errors=True)
    workdir = tmp_path_factory.mktemp("typed-clients")
    env = {"DATABASE_URL": f"sqlite:///{workdir / 'todo.db'}"}
    with service(env, workdir / "service.log") as live:
        rest = run("openapi-typescript", f"{live.url}/openapi.json", "-o", "generated/rest.ts")
    assert rest.returncode == 0, rest.stdout + rest.stderr
    graphql = run("graphql-codegen", "--config", "codegen.ts")
    assert graphql.returncode == 0, graphql.stdout + graphql.stderr
    return output


def test_generated_rest_types_name_bodies_and_operations(generated: Path):
    types = (generated / "rest.ts").read_text()
    for schema in ("Task", "TaskCreate", "TaskUpdate", "TaskCompletion", "TaskCreateV1",
                   "TaskUpdateV1", "ErrorBody", "ErrorEnvelope"):
        assert re.search(rf"^ {{8}}{schema}: {{$", types, re.MULTILINE), schema
    for operation in ("listTasks", "createTask", "completeTask", "listTasksFromToken",
                      "createTaskFromToken", "listTasksV1", "toggleTaskV1"):
        assert re.search(rf"^ {{4}}{operation}: {{$", types, re.MULTILINE), operation
    assert '"application/json": components["schemas"]["TaskCreate"];' in types


@pytest.fixture(scope="module")
def type_check(generated: Path) -> subprocess.CompletedProcess[str]:
    """One ``tsc`` run over the client code and the negative examples (tsconfig.negative.json)."""
    return run("tsc", "-p", "tsconfig.negative.json", "--pretty", "false")


def test_client_calls_type_check_against_the_generated_types(
        type_check: subprocess.CompletedProcess[str]):
    assert type_check.stderr == ""
    lines = type_check.stdout.splitlines()
    assert len(type_errors(type_check)) == len(lines), type_check.stdout  # diagnostics only
    assert [line for line in lines if not line.startswith("negative/")] == []


def test_reading_a_field_the_api_does_not_have_fails_type_checking(
        type_check: subprocess.CompletedProcess[str]):
    assert type_check.returncode != 0
    errors = sorted((file, code, message.split(" on type ")[0])
                    for file, code, message in type_errors(type_check))
    assert errors == [
        ("negative/graphql-wrong-field.ts", "TS2551", "Property 'due_date' does not exist"),
        ("negative/rest-wrong-field.ts", "TS2551", "Property 'titel' does not exist"),
    ], type_check.stdout


def test_an_operation_asking_for_a_field_the_schema_lacks_fails_codegen(generated: Path):
    result = run("graphql-codegen", "--config", "codegen.negative.ts")
    assert result.returncode != 0
    assert 'Cannot query field "deadline" on type "Task"' in result.stdout + result.stderr
    assert not (generated / "negative").exists()


def test_without_npm_the_run_fails_instead_of_skipping(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch):
    for name in ("package.json", "package-lock.json"):
        shutil.copy(CLIENTS / name, tmp_path / name)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match=r"need Node\.js and npm; missing: node, npm"):
        install(tmp_path)
