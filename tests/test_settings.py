"""Configuration: Neon URLs as pasted, and production refusing to start on bad settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import ConfigError, Settings, load_settings
from persistence.urls import DatabaseUrlError, parse_database_url

NEON = ("postgresql://alex:AbC123dEf@ep-cool-darkness-123456.eu-central-1.aws.neon.tech/dbname"
        "?sslmode=require&channel_binding=require")
NEON_POOLED = NEON.replace("-123456.", "-123456-pooler.")
GOOD_SECRET = "k3J9-vQz2_Lm8Rt5Wx1Yb7Nc4Hd6Fg0Ps"


def test_neon_url_is_translated_for_asyncpg():
    target = parse_database_url(NEON)
    assert target.url.drivername == "postgresql+asyncpg"
    assert (target.url.host, target.url.database, target.url.username) == (
        "ep-cool-darkness-123456.eu-central-1.aws.neon.tech", "dbname", "alex")
    assert target.url.password == "AbC123dEf"
    assert dict(target.url.query) == {}
    assert target.connect_args == {"ssl": "require"}
    assert not target.behind_pgbouncer


@pytest.mark.parametrize("url", [NEON_POOLED, NEON])
def test_pooler_host_or_setting_turns_off_prepared_statement_caches(url):
    target = parse_database_url(url, pooler="pgbouncer" if url == NEON else "")
    assert target.behind_pgbouncer
    assert target.url.query["prepared_statement_cache_size"] == "0"
    assert target.connect_args["statement_cache_size"] == 0
    names = {target.connect_args["prepared_statement_name_func"]() for _ in range(3)}
    assert len(names) == 3  # unique names: PgBouncer may hand us another server connection


@pytest.mark.parametrize(("url", "driver"), [
    ("postgres://u:p@db.example.com:5433/app", "postgresql+asyncpg"),
    ("postgresql+asyncpg://u@localhost/app", "postgresql+asyncpg"),
    ("sqlite:///./data/todo.db", "sqlite+aiosqlite"),
    ("sqlite+aiosqlite:////tmp/x.db", "sqlite+aiosqlite"),
])
def test_common_url_spellings_are_accepted(url, driver):
    assert parse_database_url(url).url.drivername == driver


@pytest.mark.parametrize("url", [
    "mysql://u@h/db", "not a url", "postgresql://host-only.example.com",
    "postgresql:///db-without-host", "sqlite://", "postgresql://u@h/db?sslmode=bogus",
])
def test_unusable_urls_are_refused(url):
    with pytest.raises(DatabaseUrlError):
        parse_database_url(url)


def _production(**values: object) -> Settings:
    base: dict[str, object] = {"app_env": "production", "database_url": "postgresql://u@h/db",
                               "better_auth_secret": GOOD_SECRET, "_env_file": None}
    return Settings(**{**base, **values})  # type: ignore[arg-type]


@pytest.mark.parametrize(("values", "variable"), [
    ({"better_auth_secret": None}, "BETTER_AUTH_SECRET"),
    ({"better_auth_secret": "too-short"}, "BETTER_AUTH_SECRET"),
    ({"better_auth_secret": "a" * 40}, "BETTER_AUTH_SECRET"),
    ({"database_url": None}, "DATABASE_URL"),
    ({"database_url": "mysql://u@h/db"}, "DATABASE_URL"),
])
def test_production_refuses_bad_settings_naming_the_variable(values, variable):
    with pytest.raises(ConfigError, match=variable):
        _production(**values).validated()


def test_production_accepts_jwks_without_a_secret():
    settings = _production(better_auth_secret=None,
                           better_auth_jwks_url="https://auth.example.com/api/auth/jwks")
    assert settings.validated() is settings


def test_better_auth_url_sets_issuer_and_audience_unless_overridden():
    settings = _production(better_auth_url="https://app.example.com")
    assert (settings.issuer, settings.audience) == ("https://app.example.com",) * 2
    settings = _production(better_auth_url="https://app.example.com", jwt_audience="api")
    assert (settings.issuer, settings.audience) == ("https://app.example.com", "api")


def test_development_without_configuration_uses_sqlite_and_a_generated_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    for name in ("APP_ENV", "DATABASE_URL", "BETTER_AUTH_SECRET", "BETTER_AUTH_JWKS_URL"):
        monkeypatch.delenv(name, raising=False)
    first, second = load_settings(), load_settings()
    assert first.database.is_sqlite and not first.is_production
    assert first.better_auth_secret is not None
    assert first.better_auth_secret == second.better_auth_secret  # shared by every process
    secret_file = tmp_path / ".data" / "dev-secret"
    assert secret_file.stat().st_mode & 0o077 == 0


def test_cors_origins_are_a_comma_separated_list():
    settings = _production(cors_origins="https://a.example, https://b.example")
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
