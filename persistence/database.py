"""One async engine per process, and short transactions handed out to resolvers."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import QueuePool
from sqlalchemy.util.concurrency import await_

from persistence.errors import DatabaseUnavailable, is_unavailable
from persistence.urls import DatabaseTarget


@dataclass(frozen=True)
class PoolLimits:
    """How many connections a process opens, and how long anything may wait for one (seconds)."""

    pool_size: int = 20
    max_overflow: int = 0
    pool_timeout: float = 5.0
    connect_timeout: float = 5.0
    statement_timeout: float = 10.0


DEFAULT_LIMITS = PoolLimits()
SQLITE_MIN_WAIT_SECONDS = 30.0
"""SQLite has one writer: a transaction waits this long at least for the one before it."""
SQLITE_PRAGMAS = ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL")
"""Each SQLite connection enforces foreign keys (erasure cascades) and writes ahead."""


class Database:
    """The engine and its pool; the only way code reaches the database."""

    def __init__(self, engine: AsyncEngine, *, connections: int, wait_seconds: float) -> None:
        self.engine = engine
        # Requests are admitted, first come first served (asyncio.Semaphore is FIFO), only as
        # many at a time as the pool holds: in the pool's own queue a newcomer can take a
        # connection just returned before the waiter woken for it runs, and under overload
        # (1,000 connections) that waiter can lose the race until its timeout.
        self._admission = asyncio.Semaphore(connections)
        self._wait_seconds = wait_seconds
        # Same pool; a connection checked out here sends no BEGIN/COMMIT around its statement.
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    @classmethod
    def connect(cls, target: DatabaseTarget, limits: PoolLimits = DEFAULT_LIMITS) -> Database:
        """Build the engine for ``target`` (no connection is opened yet)."""
        if target.is_sqlite:
            return cls._sqlite(target, limits)
        return cls._postgres(target, limits)

    @classmethod
    def _sqlite(cls, target: DatabaseTarget, limits: PoolLimits) -> Database:
        timeout = max(limits.pool_timeout, SQLITE_MIN_WAIT_SECONDS)
        engine = _sqlite_engine(target, timeout=timeout, statement_timeout=limits.statement_timeout)
        return cls(engine, connections=1, wait_seconds=timeout)

    @classmethod
    def _postgres(cls, target: DatabaseTarget, limits: PoolLimits) -> Database:
        connect_args: dict[str, Any] = {
            "timeout": limits.connect_timeout, **target.connect_args,
            **_session_settings(limits.statement_timeout, server_side=not target.behind_pgbouncer),
        }
        engine = create_async_engine(
            target.url,
            hide_parameters=True,  # statement errors would quote user data in their message
            connect_args=connect_args,
            pool_size=limits.pool_size,
            max_overflow=limits.max_overflow,
            pool_timeout=limits.pool_timeout,
            pool_recycle=1800,
        )
        return cls(engine, connections=limits.pool_size + limits.max_overflow,
                   wait_seconds=limits.pool_timeout)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A connection in one transaction, committed on success, rolled back on error."""
        async with (_unavailable_on_outage(), self._admitted(),
                    self.engine.begin() as connection):
            yield connection

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for ONE read statement, in autocommit: no BEGIN/COMMIT round trips.

        A single statement sees one snapshot, exactly as in a transaction of its own; use
        ``transaction`` for anything that needs several statements to agree or that writes.
        """
        async with (_unavailable_on_outage(), self._admitted(),
                    self._autocommit.connect() as connection):
            yield connection

    @asynccontextmanager
    async def _admitted(self) -> AsyncIterator[None]:
        """Wait for a turn (TimeoutError after the pool timeout, as the pool would raise)."""
        async with asyncio.timeout(self._wait_seconds):
            await self._admission.acquire()
        try:
            yield
        finally:
            self._admission.release()

    def for_request(self) -> RequestDatabase:
        """A handle for one request: it holds at most one pooled connection at a time."""
        return RequestDatabase(self)

    async def ping(self) -> None:
        """Run a trivial statement; raise DatabaseUnavailable when the database is down."""
        async with self.read() as connection:
            await connection.execute(text("SELECT 1"))

    def connections_in_use(self) -> int:
        """Connections currently checked out of the pool."""
        pool = self.engine.pool
        assert isinstance(pool, QueuePool)  # both databases' engines pool their connections
        return pool.checkedout()

    async def dispose(self) -> None:
        await self.engine.dispose()


class ConnectionAlreadyHeld(RuntimeError):
    """Code that holds the request's connection waited for another one: it would never get it."""


_held_turn: ContextVar[object | None] = ContextVar("held_turn", default=None)
"""The turn of a RequestDatabase that the running code (or the code that started it) holds."""


class RequestDatabase:
    """One request's way to the database: at most one pooled connection at a time.

    GraphQL resolves sibling fields concurrently, and DataLoader batches run in tasks of their
    own; here they queue for the request's one turn instead of each taking a connection, so a
    request with thirty aliased fields takes one connection from the pool, not thirty. Code
    that holds the turn must not wait for anything that needs another one (a loader, a
    sibling): that is refused with ConnectionAlreadyHeld instead of waiting forever.
    """

    def __init__(self, database: Database) -> None:
        self._database = database
        self._turn = asyncio.Lock()
        self._holder: object | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """As ``Database.transaction``, once the request's turn comes."""
        async with self._my_turn(), self._database.transaction() as connection:
            yield connection

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """As ``Database.read``, once the request's turn comes."""
        async with self._my_turn(), self._database.read() as connection:
            yield connection

    def ensure_not_held(self) -> None:
        """ConnectionAlreadyHeld when the running code holds this request's connection."""
        if self._holder is not None and _held_turn.get() is self._holder:
            raise ConnectionAlreadyHeld  # a bug in our code: answered 500, its type logged

    @asynccontextmanager
    async def _my_turn(self) -> AsyncIterator[None]:
        self.ensure_not_held()
        async with self._turn:
            self._holder = holder = object()
            token = _held_turn.set(holder)
            try:
                yield
            finally:
                _held_turn.reset(token)
                self._holder = None


@asynccontextmanager
async def _unavailable_on_outage() -> AsyncIterator[None]:
    """Database outages (refused connections, dropped sockets) as DatabaseUnavailable."""
    try:
        yield
    except Exception as error:
        if is_unavailable(error):
            raise DatabaseUnavailable(str(type(error).__name__)) from error
        raise


CLIENT_TIMEOUT_MARGIN_SECONDS = 1.0
"""How much later than the server the driver gives up on a statement (the server answers first)."""


def _session_settings(statement_timeout: float, *, server_side: bool) -> dict[str, Any]:
    """asyncpg connect arguments: statements bounded in time and planned for their own values.

    PostgreSQL cancels a statement past ``statement_timeout`` itself, which leaves the
    connection healthy; the driver's ``command_timeout`` is the backstop should the server not
    answer. ``force_custom_plan``: a prepared statement is otherwise switched to a generic
    plan, made once for any user, after a few runs, and with one user holding most of the rows
    that plan scans everyone's tasks (a parallel scan of 100,000 rows to list another user's
    five). PgBouncer refuses start-up parameters: behind it the driver's timeout, which cancels
    the statement on the server too, is the only bound, and statements are prepared afresh for
    every run, so each is planned for its values anyway.
    """
    if not server_side:
        return {"command_timeout": statement_timeout}
    milliseconds = max(1, round(statement_timeout * 1000))
    return {"command_timeout": statement_timeout + CLIENT_TIMEOUT_MARGIN_SECONDS,
            "server_settings": {"statement_timeout": f"{milliseconds}ms",
                                "plan_cache_mode": "force_custom_plan"}}


class _Deadline:
    """When the statement SQLite is running must stop (never, between statements)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = math.inf

    def passed(self) -> int:
        """SQLite's progress handler: non-zero interrupts the running statement (once)."""
        if time.monotonic() <= self.at:
            return 0
        self.at = math.inf  # the rollback that follows must not be interrupted too
        return 1


SQLITE_PROGRESS_STEPS = 10_000
"""Virtual machine instructions between two looks at the deadline (well under a millisecond)."""


def _sqlite_engine(target: DatabaseTarget, *, timeout: float,
                   statement_timeout: float) -> AsyncEngine:
    # SQLite has a single writer: one pooled connection serialises transactions in the
    # pool's queue instead of failing them with "database is locked".
    engine = create_async_engine(
        target.url, pool_size=1, max_overflow=0, pool_timeout=timeout, hide_parameters=True,
        connect_args={"timeout": timeout},  # sqlite3's busy timeout: how long a writer waits
    )
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _pragmas(dbapi_connection: Any, record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()
        # SQLite has no statement timeout: a progress handler interrupts a statement past it.
        deadline = record.info["deadline"] = _Deadline(statement_timeout)
        await_(record.driver_connection.set_progress_handler(deadline.passed,
                                                             SQLITE_PROGRESS_STEPS))

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _start(conn: Any, *_: Any) -> None:
        deadline: _Deadline = conn.connection.info["deadline"]
        deadline.at = time.monotonic() + deadline.seconds

    @event.listens_for(sync_engine, "after_cursor_execute")
    def _stop(conn: Any, *_: Any) -> None:
        conn.connection.info["deadline"].at = math.inf

    return engine
