"""The rules every door keeps alike, each scenario run once per door of tests/doors.py.

Checks answer in the contract's order, the first that fails: 401, 403, 404, 400 (422 on B and
C, VALIDATION_ERROR on GraphQL), 412. Another user's task is indistinguishable from a missing
one, and a path that names another user is 403. What only one door promises stays in that
door's test file.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from tests.doors import (
    DOORS,
    GRAPHQL,
    PATH_DOORS,
    SURFACE_A,
    SURFACE_C,
    Body,
    Caller,
    Door,
    ListQuery,
    Outcome,
    Result,
    canonical,
    door_id,
    make,
)
from tests.support import ALICE, BOB, CAROL, token

pytestmark = pytest.mark.anyio

EVERY_DOOR = pytest.mark.parametrize("door", DOORS, ids=door_id)
PATH_DOOR = pytest.mark.parametrize("door", PATH_DOORS, ids=door_id)
MALFORMED_JSON = b"{bad"
EMPTY_TITLE = {"title": ""}
INVALID_PAGE = ListQuery(page_size=0)


def invalid_bodies(door: Door) -> list[Body]:
    """Bodies every operation of ``door`` refuses: malformed JSON (REST only), an empty title."""
    return [EMPTY_TITLE] if door is GRAPHQL else [MALFORMED_JSON, EMPTY_TITLE]


async def every_operation(door: Door, http: httpx.AsyncClient, caller: Caller, task_id: str, *,
                          path_user: str | None = None) -> list[Outcome]:
    """Each operation on one task: read, update, complete (where the door can), toggle, delete."""
    outcomes = [
        await door.get(http, caller, task_id, path_user=path_user),
        await door.update(http, caller, task_id, {"title": "pwned"}, path_user=path_user),
        await door.toggle(http, caller, task_id, path_user=path_user),
    ]
    if door.sets_completion:
        outcomes.append(await door.set_completed(http, caller, task_id, True,
                                                 path_user=path_user))
    outcomes.append(await door.delete(http, caller, task_id, path_user=path_user))
    return outcomes


async def every_versioned_operation(door: Door, http: httpx.AsyncClient, caller: Caller,
                                    task_id: str, version: int) -> list[Outcome]:
    """Each operation that takes an expected version (If-Match, expectedVersion), with it."""
    outcomes = [await door.update(http, caller, task_id, {"title": "x"}, version=version)]
    if "toggle" in door.versioned:
        outcomes.append(await door.toggle(http, caller, task_id, version=version))
    if "set_completed" in door.versioned:
        outcomes.append(await door.set_completed(http, caller, task_id, True, version=version))
    if "delete" in door.versioned:
        outcomes.append(await door.delete(http, caller, task_id, version=version))
    return outcomes


def results(outcomes: list[Outcome]) -> set[Result]:
    return {outcome.result for outcome in outcomes}


# ---------------------------------------------------------------- 401


@EVERY_DOOR
async def test_no_token_is_401_with_a_bare_challenge(client: httpx.AsyncClient, door: Door):
    task = await make(door, client, ALICE)
    anonymous = Caller(ALICE, None)  # the door checks: WWW-Authenticate is just "Bearer"
    outcomes = [await door.list(client, anonymous),
                await door.create(client, anonymous, {"title": "x"}),
                *await every_operation(door, client, anonymous, task["id"])]
    assert results(outcomes) == {Result.UNAUTHENTICATED}


@EVERY_DOOR
async def test_expired_token_is_401_token_expired(client: httpx.AsyncClient, door: Door):
    expired = Caller(ALICE, token(ALICE, ttl=-3600))
    assert (await door.list(client, expired)).result is Result.EXPIRED
    assert (await door.create(client, expired, {"title": "x"})).result is Result.EXPIRED


@EVERY_DOOR
async def test_401_comes_before_403_404_and_400(client: httpx.AsyncClient, door: Door):
    bobs = await make(door, client, BOB)
    intruder = Caller(ALICE, "not-a-token")  # challenge: Bearer error="invalid_token"
    outcomes = [
        await door.list(client, intruder, path_user=BOB),
        await door.list(client, intruder, INVALID_PAGE),
        await door.get(client, intruder, bobs["id"], path_user=BOB),
        await door.get(client, intruder, "not-a-uuid"),
        await door.get(client, intruder, str(uuid.uuid4())),
        await door.update(client, intruder, bobs["id"], EMPTY_TITLE, version=9),
    ]
    for body in (MALFORMED_JSON, EMPTY_TITLE):  # on every door: no token, nothing is read
        for path_user in (None, BOB):
            outcomes.append(await door.create(client, intruder, body, path_user=path_user))
    assert results(outcomes) == {Result.UNAUTHENTICATED}


# ---------------------------------------------------------------- 403


@PATH_DOOR
async def test_403_comes_before_404_and_400(client: httpx.AsyncClient, door: Door):
    bobs = await make(door, client, BOB)
    alice = Caller.signed(ALICE)
    outcomes = [
        await door.get(client, alice, bobs["id"], path_user=BOB),
        await door.get(client, alice, "not-a-uuid", path_user=BOB),
        await door.get(client, alice, str(uuid.uuid4()), path_user=BOB),
        await door.list(client, alice, INVALID_PAGE, path_user=BOB),
        await door.update(client, alice, str(uuid.uuid4()), EMPTY_TITLE, path_user=BOB),
    ]
    outcomes += [await door.create(client, alice, body, path_user=BOB)
                 for body in invalid_bodies(door)]
    assert results(outcomes) == {Result.FORBIDDEN}


@PATH_DOOR
async def test_a_path_naming_another_user_is_403_on_every_operation(client: httpx.AsyncClient,
                                                                    door: Door):
    bobs = await make(door, client, BOB)
    alice = Caller.signed(ALICE)
    outcomes = [await door.list(client, alice, path_user=BOB),
                await door.create(client, alice, {"title": "planted"}, path_user=BOB),
                *await every_operation(door, client, alice, bobs["id"], path_user=BOB)]
    assert results(outcomes) == {Result.FORBIDDEN}
    bob = Caller.signed(BOB)
    assert (await door.get(client, bob, bobs["id"])).ok_task() == bobs
    assert (await door.list(client, bob)).ok().ids == [bobs["id"]]


# ---------------------------------------------------------------- 404


@EVERY_DOOR
async def test_404_comes_before_400_and_412(client: httpx.AsyncClient, door: Door):
    alice = Caller.signed(ALICE)
    version = 9 if "update" in door.versioned else None
    outcomes = [await door.update(client, alice, str(uuid.uuid4()), body, version=version)
                for body in invalid_bodies(door)]
    assert results(outcomes) == {Result.NOT_FOUND}


@pytest.mark.parametrize("door", [SURFACE_A, SURFACE_C, GRAPHQL], ids=door_id)
@pytest.mark.parametrize("task_id", ["not-a-uuid", "1", "' OR 1=1 --"])
async def test_a_task_id_that_is_not_a_uuid_is_a_missing_task(client: httpx.AsyncClient,
                                                              door: Door, task_id: str):
    # Surface B answers these with 422 (tests/test_surface_b.py).
    outcomes = await every_operation(door, client, Caller.signed(ALICE), task_id)
    assert results(outcomes) == {Result.NOT_FOUND}


@EVERY_DOOR
async def test_other_users_tasks_are_missing_on_every_operation_and_unchanged(
        client: httpx.AsyncClient, door: Door):
    victim = await make(door, client, BOB, title="Bob's secret", description="private")
    await make(door, client, CAROL, title="Carol's")
    for intruder in (Caller.signed(ALICE), Caller.signed(CAROL)):
        outcomes = await every_operation(door, client, intruder, victim["id"])
        assert results(outcomes) == {Result.NOT_FOUND}
        for outcome in outcomes:
            assert "Bob" not in outcome.response.text
            assert outcome.message in (None, "Task not found")  # GraphQL's task(id:) is null
        listed = await door.list(client, intruder)
        assert victim["id"] not in listed.ok().ids
        assert listed.total == (1 if intruder.user_id == CAROL else 0)
    bob = Caller.signed(BOB)
    assert (await door.get(client, bob, victim["id"])).ok_task() == victim
    assert canonical((await SURFACE_A.get(client, bob, victim["id"])).ok_task()) == canonical(
        victim)


# ---------------------------------------------------------------- 400 and 412


@EVERY_DOOR
async def test_400_comes_before_412(client: httpx.AsyncClient, door: Door):
    task = await make(door, client, ALICE)
    alice = Caller.signed(ALICE)
    outcomes = [await door.update(client, alice, task["id"], body, version=9)
                for body in invalid_bodies(door)]
    assert results(outcomes) == {Result.INVALID}
    assert (await door.get(client, alice, task["id"])).ok_task() == task


@EVERY_DOOR
async def test_a_stale_version_is_412_and_changes_nothing(client: httpx.AsyncClient, door: Door):
    task = await make(door, client, ALICE)
    alice = Caller.signed(ALICE)
    outcomes = await every_versioned_operation(door, client, alice, task["id"], 7)
    assert results(outcomes) == {Result.STALE}
    assert (await door.get(client, alice, task["id"])).ok_task() == task


@EVERY_DOOR
async def test_the_current_version_is_accepted(client: httpx.AsyncClient, door: Door):
    task = await make(door, client, ALICE)
    alice = Caller.signed(ALICE)
    updated = (await door.update(client, alice, task["id"], {"title": "v2"}, version=1)).ok_task()
    assert (updated["title"], updated["version"]) == ("v2", 2)
    if "delete" in door.versioned:
        assert (await door.delete(client, alice, task["id"], version=2)).result is Result.OK


# ---------------------------------------------------------------- concurrency


@EVERY_DOOR
async def test_concurrent_toggles_never_lose_a_version(client: httpx.AsyncClient, door: Door):
    task = await make(door, client, ALICE)
    alice = Caller.signed(ALICE)
    toggles = await asyncio.gather(*[door.toggle(client, alice, task["id"]) for _ in range(10)])
    assert results(list(toggles)) == {Result.OK}
    final = (await door.get(client, alice, task["id"])).ok_task()
    assert (final["version"], final["completed"]) == (11, False)
