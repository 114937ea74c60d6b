"""One core behind every door: tasks written through any door read back the same through all."""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx
import pytest

from tests.doors import DOORS, Caller, Door, Result, Task, canonical, door_id
from tests.support import ALICE, BOB, CAROL

pytestmark = pytest.mark.anyio


def _fields(door: Door) -> Task:
    return {"title": f"Written through {door.name}", "description": f"desc {door.name} ✓",
            "priority": "high", "status": "in_progress", "due_date": "2030-05-06T07:08:09+02:00"}


async def _read(door: Door, http: httpx.AsyncClient, caller: Caller, task_id: str
                ) -> Task | None:
    """The task through ``door``, or None when the door says it is not there."""
    outcome = await door.get(http, caller, task_id)
    if outcome.result is Result.NOT_FOUND:
        return None
    return canonical(outcome.ok_task())


async def _everything_through(door: Door, http: httpx.AsyncClient, caller: Caller) -> list[Task]:
    listed = (await door.list(http, caller)).ok_tasks()
    return sorted((canonical(t) for t in listed), key=lambda t: t["id"])


async def test_tasks_written_through_each_door_read_identically_through_every_door(client):
    alice = Caller.signed(ALICE)
    created = [canonical((await door.create(client, alice, _fields(door))).ok_task())
               for door in DOORS]
    for writer, task in zip(DOORS, created, strict=True):
        assert task["title"] == f"Written through {writer.name}"
        assert task["due_date"] == datetime.fromisoformat("2030-05-06T05:08:09+00:00")
        for reader in DOORS:
            assert await _read(reader, client, alice, task["id"]) == task, (writer.name,
                                                                            reader.name)
    expected = sorted(created, key=lambda t: t["id"])
    for reader in DOORS:
        assert await _everything_through(reader, client, alice) == expected, reader.name


async def test_changes_through_one_door_are_seen_through_every_other(client: httpx.AsyncClient):
    alice = Caller.signed(ALICE)
    task = (await DOORS[0].create(client, alice, {"title": "shared"})).ok_task()
    versions = [task["version"]]
    for door in DOORS:
        toggled = canonical((await door.toggle(client, alice, task["id"])).ok_task())
        versions.append(toggled["version"])
        for reader in DOORS:
            assert await _read(reader, client, alice, task["id"]) == toggled, (door.name,
                                                                               reader.name)
    assert versions == list(range(1, len(DOORS) + 2))


@pytest.mark.parametrize("deleter", DOORS, ids=door_id)
async def test_a_task_deleted_through_any_door_is_gone_from_all(client, deleter: Door):
    alice = Caller.signed(ALICE)
    task = (await DOORS[-1].create(client, alice, {"title": "doomed"})).ok_task()
    (await deleter.delete(client, alice, task["id"])).ok()
    for reader in DOORS:
        assert await _read(reader, client, alice, task["id"]) is None, reader.name
        assert (await reader.list(client, alice)).ok_tasks() == [], reader.name


async def test_no_door_shows_one_users_tasks_to_another(client: httpx.AsyncClient):
    callers = [Caller.signed(user) for user in (ALICE, BOB, CAROL)]
    owned = {caller: [((await door.create(client, caller, {"title": f"{caller.user_id} via "
                                                                     f"{door.name}"})
                       ).ok_task())["id"] for door in DOORS] for caller in callers}
    for caller, ids in owned.items():
        for reader in DOORS:
            assert set((await reader.list(client, caller)).ids) == set(ids), reader.name
            for other, other_ids in owned.items():
                if other != caller:
                    assert await _read(reader, client, caller, other_ids[0]) is None
    assert await _read(DOORS[0], client, callers[0], str(uuid.uuid4())) is None
