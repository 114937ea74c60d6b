"""Fixtures: every test that needs a database runs on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from schemathesis.python import asgi

from app.factory import create_app
from app.settings import Settings
from persistence import tasks, users
from persistence.migrate import head_revisions, upgrade
from tests.fuzzing import APP
from tests.support import (
    TEST_SECRET,
    AuditReasons,
    audit_reasons,
    empty_tables,
    wipe,
)

hypothesis_settings.register_profile(  # CI: bounded, and a failure is reported without shrinking
    "ci", max_examples=12, stateful_step_count=25, deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.register_profile(
    "deep", max_examples=2000, stateful_step_count=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.register_profile(  # mutation testing: the same examples for every mutant
    "mutation", parent=hypothesis_settings.get_profile("ci"), derandomize=True, database=None,
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Every database test runs on each of these; `make mutation` runs on SQLite only, for speed.
DATABASES = os.environ.get("TEST_DATABASES", "sqlite,postgresql").split(",")
PG_HOST = os.environ.get("TEST_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("TEST_PG_PORT", "5432")
PG_USER = os.environ.get("TEST_PG_USER", "postgres")


HEAVY_MARKS = ("long", "slow", "interop", "browser")
PASSED_WHILE_RECORDING = Path("mutmut-stats-passed.txt")  # in mutants/, beside mutmut's stats
_WATCHDOGS: list[threading.Timer] = []


@pytest.hookimpl(trylast=True)  # after -m and -k have deselected theirs
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with long-running tests first, so parallel workers do not end on one of them.

    Under mutmut, the likeliest killers first instead (tests/mutation_run.py's order): a mutant
    is killed by its first failing test.
    """
    if os.environ.get("MUTANT_UNDER_TEST") == "" and PASSED_WHILE_RECORDING.exists():
        # mutmut's clean run, right after the run that recorded which test calls what: the
        # tests that run passed, with no mutant switched on, need not pass again (2.5 minutes
        # of a first run). One runs all the same: mutmut wants a test to pass.
        passed = set(PASSED_WHILE_RECORDING.read_text().splitlines())
        PASSED_WHILE_RECORDING.unlink()
        items[:] = [item for item in items if item.nodeid not in passed] or items[:1]
        return
    if "__mutmut_" not in os.environ.get("MUTANT_UNDER_TEST", ""):
        heavy = {item.path for item in items
                 if any(item.get_closest_marker(mark) for mark in HEAVY_MARKS)}
        items.sort(key=lambda item: item.path not in heavy)  # stable: each file keeps its order
        return
    stats = Path("mutmut-stats.json")  # mutmut runs the tests from mutants/, beside its stats
    recorded = json.loads(stats.read_text()) if stats.exists() else {}
    durations = recorded.get("duration_by_test", {})
    breadth = Counter(test for tests in recorded.get("tests_by_mangled_function_name", {}).values()
                      for test in tests)
    from tests.mutation_run import focus  # only here: it imports mutmut

    likeliest_killers_first = focus(breadth, durations)
    items.sort(key=lambda item: (_database_of(item), *likeliest_killers_first(item.nodeid)))
    # A mutant can deadlock a request: nothing then burns the CPU mutmut's own limit counts,
    # and the run would wait for its wall limit (15 times the usual time). Three times the
    # tests' usual time fails it instead. (Not faulthandler's deadline: pytest cancels it as
    # soon as a test fails.)
    usual = sum(durations.get(item.nodeid, 1.0) for item in items)
    watchdog = threading.Timer(60 + 3 * usual, os._exit, args=(1,))
    watchdog.daemon = True
    watchdog.start()
    _WATCHDOGS.append(watchdog)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Under mutmut, a mutant is killed by its first failing test: the run ends there, before
    that test's teardown, which the mutant may hang (a connection it never gives back)."""
    if report.failed and "__mutmut_" in os.environ.get("MUTANT_UNDER_TEST", ""):
        os._exit(1)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under mutmut, the tests its recording run passed, for the clean run that follows it; and
    the end of a mutant's first session's watchdog (tests/mutation_run.py runs two)."""
    for watchdog in _WATCHDOGS:
        watchdog.cancel()
    if os.environ.get("MUTANT_UNDER_TEST") == "stats" and exitstatus == 0:
        PASSED_WHILE_RECORDING.write_text("\n".join(item.nodeid for item in session.items))


def _database_of(item: pytest.Item) -> str:
    """The database a test runs on: tests are kept together per database, set up once each."""
    callspec = getattr(item, "callspec", None)
    return str(callspec.params.get("database_url", "")) if callspec else ""


@pytest.fixture(autouse=True)
def _statements_built_under_the_mutant() -> None:
    """Under mutmut, every test builds its statements again, with the mutant switched on.

    mutmut forks each mutant's run from a process that has already run the suite, so statements
    cached per process (built once per filter shape) would otherwise still be the original's;
    and while it records which test calls which function, each test that builds a statement
    must be seen building it, not only the first.
    """
    if os.environ.get("MUTANT_UNDER_TEST"):
        for cached in (tasks._search_statement, tasks._count_statement, users._upsert,
                       head_revisions):
            cached.cache_clear()


@pytest.fixture
def server_five_hours_behind_utc() -> Iterator[None]:
    """The process's local time zone is UTC-5 (POSIX TZ: needs no time zone database)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "EST5"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def _psql(database: str, sql: str) -> None:
    try:
        subprocess.run(
            ["psql", "-h", PG_HOST, "-p", PG_PORT, "-U", PG_USER, "-d", database,
             "-v", "ON_ERROR_STOP=1", "-qc", sql],
            check=True, capture_output=True, text=True, timeout=60,
        )
    except subprocess.CalledProcessError as error:
        pytest.fail(f"PostgreSQL at {PG_HOST}:{PG_PORT} is required: {error.stderr.strip()}")


@pytest.fixture(scope="session", params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[str]:
    """A migrated, empty database of each kind, created for this run and dropped after it."""
    with _new_database(request.param, tmp_path_factory.mktemp("sqlite")) as url:
        upgrade(url)
        yield url


@pytest.fixture(params=DATABASES)
def unmigrated_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of each kind with no schema at all, for one test."""
    with _new_database(request.param, tmp_path) as url:
        yield url


@contextmanager
def _new_database(kind: str, directory: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'todo.db'}"
        return
    name = f"todo_test_{uuid.uuid4().hex[:12]}"
    _psql("postgres", f"CREATE DATABASE {name}")
    try:
        yield f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        _psql("postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        app_env="development", database_url=database_url, better_auth_secret=TEST_SECRET,
        db_pool_size=5, db_max_overflow=5, _env_file=None,  # type: ignore[call-arg]
        rate_limit="100000/minute", rate_limit_anonymous="100000/minute",  # see test_ratelimit
        max_requests_in_flight_per_user=1000,  # tests of concurrency; see test_fairness
    ).validated()


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    yield application
    await wipe(application.state.services.db)
    await application.state.services.db.dispose()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def app_under_test(settings: Settings, database_url: str) -> Iterator[asgi.ASGIClient]:
    """A client of this test's app, on schemathesis' own event loop; the tables emptied after."""
    APP.target = create_app(settings)
    try:
        with asgi.get_client(APP) as http:
            yield http
    finally:
        asgi.shutdown_lifespans()  # disposes the engine on the loop that opened its connections
        APP.target = None
        anyio.run(empty_tables, database_url)


@pytest.fixture
def audited() -> Iterator[AuditReasons]:
    """The reasons the app audits for refused requests during the test."""
    with audit_reasons() as reasons:
        yield reasons
