"""The gate in front of the connection pool: first come, first served; timeouts give way."""

from __future__ import annotations

import asyncio

import pytest

from persistence.database import FairGate

pytestmark = pytest.mark.anyio


async def test_waiters_get_in_in_arrival_order_even_when_newcomers_arrive():
    gate = FairGate(1, wait_seconds=5)
    order: list[str] = []
    release = asyncio.Event()

    async def user(name: str) -> None:
        async with gate.slot():
            order.append(name)
            await release.wait()

    first = asyncio.create_task(user("first"))
    await asyncio.sleep(0)
    waiting = [asyncio.create_task(user(f"w{n}")) for n in range(3)]
    await asyncio.sleep(0)
    release.set()  # every holder leaves at once: a newcomer now must still queue behind w0..w2
    late = asyncio.create_task(user("late"))
    await asyncio.gather(first, *waiting, late)
    assert order == ["first", "w0", "w1", "w2", "late"]


async def test_a_waiter_that_times_out_fails_and_does_not_keep_a_slot():
    gate = FairGate(1, wait_seconds=0.05)
    async with gate.slot():
        with pytest.raises(TimeoutError):
            async with gate.slot():
                pass
    async with gate.slot():  # the slot is free again
        pass


async def test_a_cancelled_waiter_passes_its_turn_on():
    gate = FairGate(1, wait_seconds=5)
    entered: list[str] = []

    async def user(name: str) -> None:
        async with gate.slot():
            entered.append(name)

    async with gate.slot():
        cancelled = asyncio.create_task(user("cancelled"))
        patient = asyncio.create_task(user("patient"))
        await asyncio.sleep(0)
        cancelled.cancel()
        await asyncio.sleep(0)
    await patient
    assert entered == ["patient"]
    assert cancelled.cancelled()
