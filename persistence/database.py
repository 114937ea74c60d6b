"""One async engine per process, and short transactions handed out to resolvers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from persistence.errors import DatabaseUnavailable, is_unavailable
from persistence.urls import DatabaseTarget


class Database:
    """The engine and the session factory; the only way code reaches the database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)

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
            return cls(_sqlite_engine(target, timeout=max(pool_timeout, 30.0)))
        connect_args: dict[str, Any] = {
            "timeout": connect_timeout,
            "command_timeout": statement_timeout,
            **target.connect_args,
        }
        engine = create_async_engine(
            target.url,
            connect_args=connect_args,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
            pool_pre_ping=True,
            pool_recycle=1800,
        )
        return cls(engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction, committed on success, rolled back on error."""
        try:
            async with self._sessions() as session, session.begin():
                yield session
        except Exception as error:
            if is_unavailable(error):
                raise DatabaseUnavailable(str(type(error).__name__)) from error
            raise

    async def ping(self) -> None:
        """Run a trivial statement; raise DatabaseUnavailable when the database is down."""
        async with self.transaction() as session:
            await session.execute(text("SELECT 1"))

    def connections_in_use(self) -> int:
        """Connections currently checked out of the pool."""
        checkedout = getattr(self.engine.pool, "checkedout", None)
        return int(checkedout()) if checkedout else 0

    async def dispose(self) -> None:
        await self.engine.dispose()


def _sqlite_engine(target: DatabaseTarget, *, timeout: float) -> AsyncEngine:
    # SQLite has a single writer: one pooled connection serialises transactions in the
    # pool's queue instead of failing them with "database is locked".
    engine = create_async_engine(
        target.url, pool_size=1, max_overflow=0, pool_timeout=timeout,
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
