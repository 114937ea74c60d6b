"""``todo-api``: production start-up refuses every unusable setting with one clear line."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from app.cli import main
from app.settings import Settings
from tests.conftest import PG_HOST, PG_PORT, PG_USER
from tests.processes import ROOT

STRONG_SECRET = "Zq8-vR2#kP0wLm5!xT7uNc3$yH9bGd1@"
PLAINTEXT_DATABASES = [  # (DATABASE_URL, the hosts named in the refusal, what it says instead)
    ("postgresql://app:pw@db.example.com/todo", "db.example.com", "no sslmode"),
    ("postgresql://app:pw@10.0.0.5/todo?sslmode=disable", "10.0.0.5", "sslmode=disable"),
    ("postgresql://app:pw@db.example.com/todo?sslmode=allow", "db.example.com", "sslmode=allow"),
    ("postgresql://app:pw@db.example.com/todo?sslmode=prefer", "db.example.com", "sslmode=prefer"),
    ("postgresql://app:pw@localhost/todo?host=db.example.com", "db.example.com", "no sslmode"),
    ("postgresql://app:pw@/todo?host=127.0.0.1:5432&host=db2.example.com:5432", "db2.example.com",
     "no sslmode"),
    ("postgresql://app:pw@/todo?host=db1.internal,db2.internal&port=5432,5432",
     "db1.internal, db2.internal", "no sslmode"),
    ("postgresql://app:pw@[::ffff:10.1.2.3]/todo", "::ffff:10.1.2.3", "no sslmode"),
]
GOOD_PRODUCTION = {
    "APP_ENV": "production",
    "DATABASE_URL": "postgresql://app:pw@db.example.com/todo?sslmode=require",
    "BETTER_AUTH_SECRET": STRONG_SECRET,
}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No setting from the outside world: only what each test sets (and no .env file)."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@pytest.mark.parametrize(("overrides", "message"), [
    ({"BETTER_AUTH_SECRET": None},
     "BETTER_AUTH_SECRET (or BETTER_AUTH_JWKS_URL) must be set in production"),
    ({"BETTER_AUTH_SECRET": "short-secret"}, "BETTER_AUTH_SECRET must be at least 32 characters"),
    ({"BETTER_AUTH_SECRET": "ab" * 20}, "BETTER_AUTH_SECRET is too weak: use a random value"),
    ({"DATABASE_URL": None}, "DATABASE_URL must be set in production"),
    ({"DATABASE_URL": "mysql://app:pw@db.example.com/todo"}, "DATABASE_URL "),
    ({"DATABASE_URL": "not a url"}, "DATABASE_URL "),
    ({"DB_POOL_SIZE": "many"}, "DB_POOL_SIZE "),
    ({"APP_ENV": "staging"}, "APP_ENV "),
    ({"RATE_LIMIT": "lots"}, "RATE_LIMIT is not a rate such as 120/minute: 'lots'"),
    ({"RATE_LIMIT_ANONYMOUS": "0/minute"}, "RATE_LIMIT_ANONYMOUS is not a rate such as"),
    ({"RATE_LIMIT_STORAGE_URL": "memcached://cache:11211"},
     "RATE_LIMIT_STORAGE_URL must be a redis://, rediss:// or memory:// URL"),
    ({"CORS_ORIGINS": "*"}, "CORS_ORIGINS must list origins in production, not '*'"),
    ({"CORS_ORIGINS": "https://app.example.com/login"}, "CORS_ORIGINS entry"),
    ({"DATABASE_URL": "sqlite:///srv/todo.db"},
     "DATABASE_URL names an SQLite file, which is for development only: use PostgreSQL"),
    ({"DATABASE_URL": "postgresql://app:pw@db.example.com/todo?sslmode=verify-ca"},
     "DATABASE_URL has sslmode=verify-ca without sslrootcert"),
    *[({"DATABASE_URL": url}, f"DATABASE_URL connects to {hosts} without encryption ({why}): "
       "add sslmode=verify-full (or at least sslmode=require), or set "
       "ALLOW_UNENCRYPTED_PRIVATE_NETWORK=true if the network between them is private")
      for url, hosts, why in PLAINTEXT_DATABASES],
    ({"RATE_LIMIT_STORAGE_URL": "redis://:pw@cache.example.com:6379/0"},
     "RATE_LIMIT_STORAGE_URL connects to cache.example.com without encryption (redis://): use a "
     "rediss:// URL, or set ALLOW_UNENCRYPTED_PRIVATE_NETWORK=true"),
    ({"BETTER_AUTH_JWKS_URL": "http://app.example.com/api/auth/jwks"},
     "BETTER_AUTH_JWKS_URL connects to app.example.com without encryption (http://): use an "
     "https:// URL, or set ALLOW_UNENCRYPTED_PRIVATE_NETWORK=true"),
])
def test_serve_refuses_bad_production_setting(environment: pytest.MonkeyPatch, capsys,
                                              overrides: dict[str, str | None], message: str):
    for name, value in (GOOD_PRODUCTION | overrides).items():
        if value is not None:
            environment.setenv(name, value)
    status = main(["serve"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith(f"todo-api: configuration error: {message}")
    assert err.count("\n") == 1
    if overrides.get("BETTER_AUTH_SECRET"):
        assert overrides["BETTER_AUTH_SECRET"] not in err


def test_good_production_settings_pass_validation(environment: pytest.MonkeyPatch):
    for name, value in GOOD_PRODUCTION.items():
        environment.setenv(name, value)
    environment.setenv("CORS_ORIGINS", "https://app.example.com, http://localhost:3000")
    environment.setenv("RATE_LIMIT_STORAGE_URL", "rediss://:pw@cache.example.com:6380/0")
    settings = Settings().validated()
    assert settings.cors_origins == ["https://app.example.com", "http://localhost:3000"]


@pytest.mark.parametrize("overrides", [
    {"DATABASE_URL": "postgresql://app:pw@localhost/todo"},
    {"DATABASE_URL": "postgresql://app:pw@127.0.0.2:5433/todo?sslmode=disable"},
    {"DATABASE_URL": "postgresql://app:pw@[::1]/todo"},
    {"DATABASE_URL": "postgresql://app@/todo?host=/var/run/postgresql"},
    {"DATABASE_URL": "postgresql://app:pw@db.example.com/todo?sslmode=verify-full"},
    {"DATABASE_URL": "postgresql://app:pw@db.example.com/todo?sslrootcert=system"},
    {"RATE_LIMIT_STORAGE_URL": "redis://127.0.0.1:6379/0"},
    {"RATE_LIMIT_STORAGE_URL": "redis+unix:///run/redis.sock"},
    {"RATE_LIMIT_STORAGE_URL": "rediss://cache.example.com:6380/0"},
    {"BETTER_AUTH_JWKS_URL": "https://app.example.com/api/auth/jwks"},
    {"BETTER_AUTH_JWKS_URL": "http://localhost:3000/api/auth/jwks"},
    {"DATABASE_URL": "postgresql://app:pw@db.internal/todo?sslmode=disable",
     "RATE_LIMIT_STORAGE_URL": "redis://cache.internal:6379/0",
     "ALLOW_UNENCRYPTED_PRIVATE_NETWORK": "true"},
])
def test_production_accepts_encrypted_or_local_or_declared_private_connections(
        environment: pytest.MonkeyPatch, overrides: dict[str, str]):
    for name, value in (GOOD_PRODUCTION | overrides).items():
        environment.setenv(name, value)
    assert Settings().validated().is_production


def test_declared_private_network_is_one_warning_line_naming_each_plaintext_connection(
        environment: pytest.MonkeyPatch):
    for name, value in GOOD_PRODUCTION.items():
        environment.setenv(name, value)
    environment.setenv("DATABASE_URL", "postgresql://app:pw@db.internal/todo?sslmode=disable")
    environment.setenv("RATE_LIMIT_STORAGE_URL", "redis://cache.internal:6379/0")
    environment.setenv("ALLOW_UNENCRYPTED_PRIVATE_NETWORK", "true")
    assert Settings().validated().private_network_warning() == (
        "ALLOW_UNENCRYPTED_PRIVATE_NETWORK=true: DATABASE_URL connects to db.internal without "
        "encryption (sslmode=disable); RATE_LIMIT_STORAGE_URL connects to cache.internal without "
        "encryption (redis://)")


def test_entry_point_exits_2_with_one_line(tmp_path: Path):
    env = {"PATH": "/usr/bin:/bin", "APP_ENV": "production", "DATABASE_URL": "postgresql://x/y",
           "BETTER_AUTH_SECRET": "too-short"}
    result = subprocess.run([sys.executable, "-m", "app.cli", "serve"], cwd=tmp_path, env=env
                            | {"PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 2
    assert result.stderr == ("todo-api: configuration error: "
                             "BETTER_AUTH_SECRET must be at least 32 characters\n")
    assert result.stdout == ""


def test_token_prints_a_token_for_the_user(environment: pytest.MonkeyPatch, capsys):
    environment.setenv("BETTER_AUTH_SECRET", STRONG_SECRET)
    assert main(["token", "user-7"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed.count(".") == 2


def test_replicas_migrating_at_once_both_succeed(tmp_path: Path):
    name = f"todo_migrate_{uuid.uuid4().hex[:10]}"
    admin = ["psql", "-h", PG_HOST, "-p", PG_PORT, "-U", PG_USER, "-d", "postgres", "-qc"]
    subprocess.run([*admin, f"CREATE DATABASE {name}"], check=True, timeout=60)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "BETTER_AUTH_SECRET": STRONG_SECRET,
           "DATABASE_URL": f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"}
    try:
        replicas = [subprocess.Popen([sys.executable, "-m", "app.cli", "migrate"], cwd=tmp_path,
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                    for _ in range(2)]
        outcomes = [(p.wait(timeout=120), p.stderr.read().decode()) for p in replicas
                    if p.stderr is not None]
    finally:
        subprocess.run([*admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=True,
                       timeout=60)
    assert [code for code, _ in outcomes] == [0, 0], outcomes


def test_compose_recipe_passes_production_start_up_checks(environment: pytest.MonkeyPatch):
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name, value in compose["services"]["api"]["environment"].items():
        environment.setenv(name, _compose_default(str(value)))
    assert Settings().validated().is_production


def _compose_default(value: str) -> str:
    """``${X:-default}`` as its default; a required ``${X:?…}`` as a strong secret."""
    return re.sub(r"\$\{\w+(?::-([^}]*)|:\?[^}]*)\}",
                  lambda match: match.group(1) if match.group(1) is not None else STRONG_SECRET,
                  value)
