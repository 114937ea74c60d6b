"""The rows of the hottest read statements, from the driver itself on PostgreSQL.

For a statement that reads a task or a page of them, SQLAlchemy's result layer (its asyncpg
adapter, rows, processors) costs more than PostgreSQL takes to answer: about 130 us a statement
and 2 us a row here. These statements are still built and compiled by SQLAlchemy (once each),
then run on the pooled connection's own asyncpg connection. On SQLite, and for every other
statement, SQLAlchemy runs them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Dialect, Select
from sqlalchemy.ext.asyncio import AsyncConnection

from persistence.errors import is_unavailable

_COMPILED: dict[tuple[Select[Any], str], tuple[str, tuple[str, ...], dict[str, Any]]] = {}
"""SQL text, parameter order and the values the statement binds itself (a CASE's literals), per
statement and dialect (statements are built once and live as long as the process)."""


def reads_from_asyncpg(dialect: Dialect) -> bool:
    """Whether the database is reached through asyncpg, whose own way of reading rows and binding
    values persistence then uses where it is faster (fetch_all, UTCDateTime, tasks.fetch_many)."""
    return dialect.driver == "asyncpg"


async def fetch_all(connection: AsyncConnection, statement: Select[Any],
                    params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
    """Every row ``statement`` returns for ``params``, as tuples of the driver's own values."""
    if reads_from_asyncpg(connection.dialect):
        return await _fetch_from_asyncpg(connection, statement, params)
    found: Sequence[Sequence[Any]] = (await connection.execute(statement, params)).all()
    return found


async def _fetch_from_asyncpg(connection: AsyncConnection, statement: Select[Any],
                              params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
    sql, names, own = _compiled(statement, connection.dialect)
    values = {**own, **params}
    arguments = tuple(values[n] for n in names)
    # Announced as SQLAlchemy announces its own, so that whatever listens to the engine
    # (statement counters in the tests, tracing) sees these statements too.
    sync = connection.sync_connection
    assert sync is not None  # an open connection
    if listeners := sync.dispatch.before_cursor_execute:
        listeners(sync, None, sql, arguments, None, False)
    driver = sync.connection.driver_connection  # checked out already: no greenlet round trip
    assert driver is not None
    try:
        rows: Sequence[Sequence[Any]] = await driver.fetch(sql, *arguments)
    except BaseException as error:
        if is_unavailable(error):  # as SQLAlchemy would: the pool must not hand it out again
            await connection.invalidate()
        raise
    return rows


def _compiled(statement: Select[Any], dialect: Dialect
              ) -> tuple[str, tuple[str, ...], dict[str, Any]]:
    key = (statement, dialect.name)
    if key not in _COMPILED:
        compiled = statement.compile(dialect=dialect)
        own = {name: value for name, value in compiled.params.items() if value is not None}
        _COMPILED[key] = (compiled.string, tuple(compiled.positiontup or ()), own)
    return _COMPILED[key]
