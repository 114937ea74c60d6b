"""One async engine per process, and short transactions handed out to resolvers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from persistence.errors import DatabaseUnavailable, is_unavailable
from persistence.urls import DatabaseTarget


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
    def connect(
        cls,
        target: DatabaseTarget,
        *,
        pool_size: int = 10,
        max_overflow: int = 10,
        pool_timeout: float = 5.0,
        connect_timeout: float = 5.0,
        statement_timeout: float = 10.0,
    ) -> Database:
        """Build the engine for ``target`` (no connection is opened yet)."""
        if target.is_sqlite:
            timeout = max(pool_timeout, 30.0)
            return cls(_sqlite_engine(target, timeout=timeout), connections=1,
                       wait_seconds=timeout)
        connect_args: dict[str, Any] = {
            "timeout": connect_timeout,
            "command_timeout": statement_timeout,
            **target.connect_args,
        }
        engine = create_async_engine(
            target.url,
            hide_parameters=True,  # statement errors would quote user data in their message
            connect_args=connect_args,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
            pool_recycle=1800,
        )
        return cls(engine, connections=pool_size + max_overflow, wait_seconds=pool_timeout)

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

    async def ping(self) -> None:
        """Run a trivial statement; raise DatabaseUnavailable when the database is down."""
        async with self.read() as connection:
            await connection.execute(text("SELECT 1"))

    def connections_in_use(self) -> int:
        """Connections currently checked out of the pool."""
        checkedout = getattr(self.engine.pool, "checkedout", None)
        return int(checkedout()) if checkedout else 0

    async def dispose(self) -> None:
        await self.engine.dispose()


@asynccontextmanager
async def _unavailable_on_outage() -> AsyncIterator[None]:
    """Database outages (refused connections, dropped sockets) as DatabaseUnavailable."""
    try:
        yield
    except Exception as error:
        if is_unavailable(error):
            raise DatabaseUnavailable(str(type(error).__name__)) from error
        raise


def _sqlite_engine(target: DatabaseTarget, *, timeout: float) -> AsyncEngine:
    # SQLite has a single writer: one pooled connection serialises transactions in the
    # pool's queue instead of failing them with "database is locked".
    engine = create_async_engine(
        target.url, pool_size=1, max_overflow=0, pool_timeout=timeout, hide_parameters=True,
        connect_args={"timeout": timeout},
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        cursor.close()

    return engine
