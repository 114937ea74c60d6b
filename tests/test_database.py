"""The database layer under pressure: a full pool answers 'unavailable', never hangs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from persistence.database import Database
from persistence.errors import DatabaseUnavailable
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
