"""docker-compose.yml and the Dockerfile (no Docker engine here: their structure is checked)."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest
import yaml

from app.settings import Settings
from tests.processes import ROOT


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_compose_runs_postgres_redis_and_api_with_health_checks(compose: dict[str, Any]):
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "api"}
    for name, service in services.items():
        assert service["healthcheck"]["test"], name
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "/ready" in " ".join(services["api"]["healthcheck"]["test"])


def test_compose_api_waits_for_healthy_database_and_redis(compose: dict[str, Any]):
    depends = compose["services"]["api"]["depends_on"]
    assert depends == {"postgres": {"condition": "service_healthy"},
                       "redis": {"condition": "service_healthy"}}


def test_compose_api_migrates_then_serves(compose: dict[str, Any]):
    command = " ".join(compose["services"]["api"]["command"])
    assert re.search(r"todo-api migrate && exec todo-api serve --host 0\.0\.0\.0", command)


def test_compose_api_sets_only_known_settings(compose: dict[str, Any]):
    environment = compose["services"]["api"]["environment"]
    known = {name.upper() for name in Settings.model_fields}
    assert set(environment) <= known, set(environment) - known
    assert environment["APP_ENV"] == "production"
    assert environment["RATE_LIMIT_STORAGE_URL"].startswith("redis://redis:")
    assert "${BETTER_AUTH_SECRET:?" in environment["BETTER_AUTH_SECRET"]  # no default secret


def test_compose_api_variables_are_documented_in_readme(compose: dict[str, Any]):
    readme = (ROOT / "README.md").read_text()
    for name in compose["services"]["api"]["environment"]:
        assert f"`{name}`" in readme, name


def test_dockerfile_runs_the_cli_as_a_non_root_user_with_a_health_check():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER todo$", dockerfile, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*\n.*/health", dockerfile, re.MULTILINE)
    # the port comes from PORT (platforms set it), 8000 without it
    assert re.search(r'^CMD \["todo-api", "serve", "--host", "0\.0\.0\.0"\]$', dockerfile,
                     re.MULTILINE)
    assert "os.environ.get('PORT', '8000')" in dockerfile  # the health check follows it
    assert "uv sync --frozen --no-dev" in dockerfile
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for package in project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]:
        assert f"COPY {package} {package}" in dockerfile
