"""The database layer under pressure: a full pool answers 'unavailable', never hangs."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import exc as sa_exc

from persistence.database import Database, PoolLimits
from persistence.errors import (
    CERTIFICATE_HOST_MISMATCH,
    CERTIFICATE_UNTRUSTED,
    UNREACHABLE,
    DatabaseUnavailable,
    is_unavailable,
    unavailable_reason,
)
from persistence.urls import parse_database_url

pytestmark = pytest.mark.anyio


@pytest.fixture
async def one_connection(database_url: str) -> AsyncIterator[Database]:
    engine = Database.connect(parse_database_url(database_url)).engine
    database = Database(engine, connections=1, wait_seconds=0.2)
    yield database
    await database.dispose()


async def test_waiting_past_the_pool_timeout_is_unavailable_then_recovers(one_connection):
    async with one_connection.transaction():
        with pytest.raises(DatabaseUnavailable):
            async with one_connection.read():
                pass
    await one_connection.ping()  # the turn that timed out was given back


async def test_waiting_requests_get_their_turn_in_order(one_connection):
    order: list[int] = []

    async def use(n: int) -> None:
        async with one_connection.read():
            order.append(n)

    async with one_connection.transaction():
        waiting = [asyncio.create_task(use(n)) for n in range(5)]
        await asyncio.sleep(0.05)
    await asyncio.gather(*waiting)
    assert order == [0, 1, 2, 3, 4]


async def test_sqlite_connections_enforce_foreign_keys_write_ahead_and_wait_for_the_writer(
        tmp_path):
    """Erasure cascades; readers never block the writer; a writer waits its turn 30 s at least."""
    url = f"sqlite:///{tmp_path / 'todo.db'}"
    for pool_timeout, busy_timeout in ((5.0, 30_000), (45.0, 45_000)):
        database = Database.connect(parse_database_url(url), PoolLimits(pool_timeout=pool_timeout))
        try:
            async with database.read() as connection:
                settings = [(await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
                            for name in ("foreign_keys", "journal_mode", "synchronous",
                                         "busy_timeout")]
        finally:
            await database.dispose()
        assert settings == [1, "wal", 1, busy_timeout]  # synchronous: 1 is NORMAL


async def test_a_pool_has_the_size_and_timeout_it_is_given_but_sqlite_has_one_writer(
        database_url):
    limits = PoolLimits(pool_size=3, max_overflow=2, pool_timeout=0.2)
    database = Database.connect(parse_database_url(database_url), limits)
    pool = database.engine.pool
    try:
        if database_url.startswith("sqlite"):
            assert (pool.size(), pool.timeout()) == (1, 30.0)
            target = parse_database_url(database_url)
            patient = Database.connect(target, PoolLimits(pool_timeout=45))
            assert patient.engine.pool.timeout() == 45.0
            await patient.dispose()
            async with database.read():
                assert database.connections_in_use() == 1
                with pytest.raises(TimeoutError):  # no second connection, not even briefly
                    await asyncio.wait_for(database.engine.connect().start(), 0.2)
            return
        assert (pool.size(), pool.timeout()) == (3, 0.2)
        async with database.transaction(), database.transaction(), database.transaction(), \
                database.transaction(), database.transaction():
            assert database.connections_in_use() == 5
            with pytest.raises(DatabaseUnavailable):  # the sixth waits past the timeout
                async with database.read():
                    pass
    finally:
        await database.dispose()


def _certificate_refused(verify_code: int) -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_code = verify_code
    return error


def _caused_by(cause: BaseException) -> OSError:
    error = OSError("connection failed")
    error.__cause__ = cause  # `raise ... from cause`, with nothing else being handled
    return error


def _raised_while_handling(context: BaseException) -> ConnectionError:
    error = ConnectionError("gave up")
    error.__context__ = context
    return error


# OpenSSL: 62 host name mismatch, 64 IP address mismatch, 20 unknown issuer, 10 expired
@pytest.mark.parametrize(("verify_code", "reason"), [
    (62, CERTIFICATE_HOST_MISMATCH), (64, CERTIFICATE_HOST_MISMATCH),
    (20, CERTIFICATE_UNTRUSTED), (10, CERTIFICATE_UNTRUSTED),
])
def test_a_refused_certificate_anywhere_in_the_chain_is_named(verify_code: int, reason: str):
    refused = _certificate_refused(verify_code)
    for error in (refused, _caused_by(refused), _raised_while_handling(refused),
                  _caused_by(_raised_while_handling(refused))):
        assert unavailable_reason(error) == reason


def test_anything_else_is_unreachable_even_when_causes_go_round_in_a_circle():
    first, second = OSError("first"), OSError("second")
    first.__context__, second.__cause__ = second, first
    assert unavailable_reason(first) == UNREACHABLE
    assert unavailable_reason(_caused_by(TimeoutError())) == UNREACHABLE


def _named(name: str) -> Exception:
    """An error of the driver's, known by its class name only."""
    return type(name, (Exception,), {})("failed")


def _with_sqlstate(sqlstate: str) -> Exception:
    """An error known by its SQLSTATE only."""
    error = Exception("failed")
    error.sqlstate = sqlstate
    return error


def _adapted(cause: Exception) -> Exception:
    """The driver's error as SQLAlchemy's adapter raises it: another error, caused by it."""
    error = Exception("adapted")
    error.__cause__ = cause
    return error


def _wrapped(kind: type[sa_exc.DBAPIError], orig: Exception | None, *,
             invalidated: bool = False) -> sa_exc.DBAPIError:
    return kind("SELECT 1", {}, orig, connection_invalidated=invalidated)  # type: ignore[arg-type]


_UNAVAILABLE_NAMES = ["CannotConnectNowError", "ConnectionDoesNotExistError",
                      "ConnectionFailureError", "TooManyConnectionsError", "AdminShutdownError",
                      "QueryCanceledError", "InterfaceError"]
# connection exceptions (class 08), too many connections, shutting down, crash, starting up
_UNAVAILABLE_SQLSTATES = ["08000", "08006", "53300", "57P01", "57P02", "57P03"]


@pytest.mark.parametrize("error", [
    *(_named(name) for name in _UNAVAILABLE_NAMES),
    *(_with_sqlstate(code) for code in _UNAVAILABLE_SQLSTATES),
    *(_adapted(_named(name)) for name in _UNAVAILABLE_NAMES),
    _wrapped(sa_exc.DBAPIError, _with_sqlstate("57P01")),
    _wrapped(sa_exc.DBAPIError, _named("TooManyConnectionsError")),
    _wrapped(sa_exc.IntegrityError, _with_sqlstate("23505"), invalidated=True),
    _wrapped(sa_exc.OperationalError, None), _wrapped(sa_exc.InterfaceError, None),
    sa_exc.TimeoutError(), TimeoutError(), ConnectionResetError(), OSError(),
], ids=repr)
def test_errors_that_mean_the_database_cannot_be_reached_are_unavailable(error: Exception):
    assert is_unavailable(error)


@pytest.mark.parametrize("error", [
    _named("UniqueViolationError"), _with_sqlstate("23505"), _with_sqlstate("40001"),
    _with_sqlstate("53200"), _with_sqlstate("57014"), _with_sqlstate(""), ValueError("x"),
    _wrapped(sa_exc.IntegrityError, _with_sqlstate("23505")),
    _wrapped(sa_exc.DBAPIError, _named("DataError")), _wrapped(sa_exc.DBAPIError, None),
], ids=repr)
def test_errors_of_the_statement_itself_are_not_unavailable(error: Exception):
    assert not is_unavailable(error)
