"""Storage guards its owner on its own: every function called with another owner's id finds
nothing and changes nothing, even where the resolvers above would have refused first.

These call ``persistence`` directly, on both databases: each statement's owner condition is the
last line of defence, and only a test that bypasses the resolvers fails when one is dropped.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from persistence import idempotency, tasks, users
from persistence.database import Database
from persistence.urls import parse_database_url
from resolvers.domain import (
    SortField,
    SortKey,
    StatusCounts,
    Task,
    TaskFilter,
    TaskOrdering,
    TaskPriority,
    TaskStatus,
    sort_value,
)
from tests.support import ALICE, BOB, CAROL, empty_tables, stored_instant

pytestmark = pytest.mark.anyio

NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
Rows = dict[str, list[tuple[Any, ...]]]


def _task(owner: str, title: str, **fields: Any) -> Task:
    values: dict[str, Any] = {
        "id": uuid.uuid4(), "user_id": owner, "title": title, "description": f"{title} notes",
        "completed": False, "completed_at": None, "status": TaskStatus.PENDING,
        "priority": TaskPriority.MEDIUM, "due_date": None, "created_at": NOW,
        "updated_at": NOW, "version": 1,
    }
    return Task(**(values | fields))


BOBS = [
    _task(BOB, "bob pending", due_date=NOW + timedelta(days=1)),
    _task(BOB, "bob busy", status=TaskStatus.IN_PROGRESS, priority=TaskPriority.HIGH),
    _task(BOB, "bob done", status=TaskStatus.COMPLETED, completed=True, completed_at=NOW,
          priority=TaskPriority.LOW, due_date=NOW - timedelta(days=1)),
]
ALICES = _task(ALICE, "alice's own")
EVERY_FILTER = [
    TaskFilter(), TaskFilter(search="bob"), TaskFilter(status=TaskStatus.COMPLETED),
    TaskFilter(completed=False), TaskFilter(priority=TaskPriority.HIGH),
    TaskFilter(due_after=NOW - timedelta(days=9)), TaskFilter(due_before=NOW + timedelta(days=9)),
]


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """Bob with three tasks, Alice with one, Carol with none (but a user row)."""
    database = Database.connect(parse_database_url(database_url))
    async with database.transaction() as connection:
        for user in (ALICE, BOB, CAROL):
            await users.record_write(connection, user, email=f"{user}@example.com", name=user,
                                     now=NOW)
        for task in [*BOBS, ALICES]:
            await tasks.insert_task(connection, task)
    yield database
    await database.dispose()
    await empty_tables(database_url)


async def _rows(database: Database) -> Rows:
    """Every row of every table, as stored."""
    async with database.read() as connection:
        return {table: [tuple(row) for row in await connection.execute(
                    text(f"SELECT * FROM {table} ORDER BY 1, 2"))]
                for table in ("tasks", "users", "idempotency_keys")}


def _ids(found: list[Task]) -> set[uuid.UUID]:
    return {task.id for task in found}


def test_every_storage_function_is_covered_here():
    public = {f"{module.__name__}.{name}" for module in (tasks, users, idempotency)
              for name, function in inspect.getmembers(module, inspect.iscoroutinefunction)
              if not name.startswith("_") and function.__module__ == module.__name__
              and "__mutmut_" not in name}  # mutmut's copies, under `make mutation`
    missing = public - COVERED
    assert not missing, f"add a test that {sorted(missing)} ignore another owner's rows"


async def test_fetch_finds_no_task_of_another_owner(db: Database):
    before = await _rows(db)
    async with db.transaction() as connection:
        for intruder in (ALICE, CAROL):
            for task in BOBS:
                assert await tasks.fetch(connection, intruder, task.id) is None
                assert await tasks.fetch_for_update(connection, intruder, task.id) is None
        assert await tasks.fetch(connection, ALICE, ALICES.id) == ALICES
        assert await tasks.fetch_for_update(connection, ALICE, ALICES.id) == ALICES
    assert await _rows(db) == before


async def test_fetch_many_returns_only_the_owners_tasks(db: Database):
    every_id = [task.id for task in [*BOBS, ALICES]]
    before = await _rows(db)
    async with db.read() as connection:
        assert await tasks.fetch_many(connection, ALICE, every_id) == [ALICES]
        assert await tasks.fetch_many(connection, CAROL, every_id) == []
    assert await _rows(db) == before


@pytest.mark.parametrize("by", list(SortField))
async def test_search_and_count_see_only_the_owners_tasks(db: Database, by: SortField):
    before = await _rows(db)
    after_bobs = SortKey(sort_value(BOBS[0], by), BOBS[0].id)
    for descending in (True, False):
        ordering = TaskOrdering(by, descending=descending)
        async with db.read() as connection:
            for flt in EVERY_FILTER:
                mine = {ALICES.id} if _matches(ALICES, flt) else set()
                for intruder, expected in ((ALICE, mine), (CAROL, set())):
                    found = await tasks.search(connection, intruder, flt, ordering, limit=10,
                                               with_revision=True)
                    assert (_ids(found.tasks), found.total) == (expected, len(expected)), (
                        intruder, flt)
                    assert found.revision == await users.tasks_revision(connection, intruder)
                    assert await tasks.count(connection, intruder, flt) == len(expected)
                    paged = await tasks.search(connection, intruder, flt, ordering,
                                               limit=10, after=after_bobs)
                    assert _ids(paged.tasks) <= expected, (intruder, flt)
    assert await _rows(db) == before


def _matches(task: Task, flt: TaskFilter) -> bool:
    """Whether Alice's one task passes ``flt`` (the filters above are simple enough)."""
    return (flt.search in (None, "") or flt.search in task.title) and \
        flt.status in (None, task.status) and flt.completed in (None, task.completed) and \
        flt.priority in (None, task.priority) and \
        (task.due_date is not None or (flt.due_after is None and flt.due_before is None))


async def test_count_by_status_counts_only_the_owners_tasks(db: Database):
    async with db.read() as connection:
        assert await tasks.count_by_status(connection, ALICE) == StatusCounts(pending=1)
        assert await tasks.count_by_status(connection, CAROL) == StatusCounts()
        assert await tasks.count_by_status(connection, BOB) == StatusCounts(1, 1, 1)


async def test_update_task_of_another_owner_changes_nothing(db: Database):
    before = await _rows(db)
    async with db.transaction() as connection:
        for intruder in (ALICE, CAROL):
            for task in BOBS:
                changed = await tasks.update_task(connection, intruder, task.id, {
                    "title": "pwned", "user_id": intruder, "updated_at": NOW})
                assert changed is None
    assert await _rows(db) == before


async def test_delete_task_of_another_owner_deletes_nothing(db: Database):
    before = await _rows(db)
    async with db.transaction() as connection:
        for intruder in (ALICE, CAROL):
            for task in BOBS:
                assert await tasks.delete_task(connection, intruder, task.id) is False
    assert await _rows(db) == before


async def test_writes_for_one_owner_leave_every_other_row_alone(db: Database):
    before = await _rows(db)
    new = _task(ALICE, "another of alice's")
    async with db.transaction() as connection:
        await users.record_write(connection, ALICE, email="new@example.com", name="Alice",
                                 now=NOW + timedelta(hours=1))
        assert await users.advance_revision(connection, ALICE) is True
        assert await users.lock_user(connection, ALICE) is True
        await idempotency.store(connection, ALICE, "key-1", fingerprint="f", task=ALICES,
                                now=NOW, expires_at=NOW + timedelta(days=1))
        await tasks.insert_task(connection, new)
        assert await tasks.update_task(connection, ALICE, ALICES.id, {"title": "renamed"})
        assert await tasks.delete_task(connection, ALICE, new.id) is True
    after = await _rows(db)
    for table in ("tasks", "users", "idempotency_keys"):
        others_before = [row for row in before[table] if ALICE not in row]
        assert [row for row in after[table] if ALICE not in row] == others_before, table
    assert after != before  # Alice's own rows did change


async def test_revision_and_lock_of_one_user_touch_no_other_row(db: Database):
    async with db.read() as connection:
        revisions = {user: await users.tasks_revision(connection, user)
                     for user in (ALICE, BOB, CAROL)}
        assert await users.tasks_revision(connection, "nobody") is None
    before = await _rows(db)
    async with db.transaction() as connection:
        assert await users.lock_user(connection, CAROL) is True
        assert await users.advance_revision(connection, CAROL) is True
        assert await users.lock_user(connection, "nobody") is False
        assert await users.advance_revision(connection, "nobody") is False
    async with db.read() as connection:
        assert await users.tasks_revision(connection, CAROL) != revisions[CAROL]
        for user in (ALICE, BOB):
            assert await users.tasks_revision(connection, user) == revisions[user]
    after = await _rows(db)
    assert after["tasks"] == before["tasks"]
    assert [r for r in after["users"] if CAROL not in r] == [
        r for r in before["users"] if CAROL not in r]


async def test_deleting_a_user_removes_their_rows_and_no_one_elses(db: Database):
    async with db.transaction() as connection:
        await idempotency.store(connection, BOB, "k", fingerprint="f", task=BOBS[0],
                                now=NOW, expires_at=NOW + timedelta(days=1))
        await idempotency.store(connection, ALICE, "k", fingerprint="f", task=ALICES,
                                now=NOW, expires_at=NOW + timedelta(days=1))
    before = await _rows(db)
    async with db.transaction() as connection:
        assert await users.delete_user(connection, ALICE) is True
        assert await users.delete_user(connection, ALICE) is False
    after = await _rows(db)
    for table in ("tasks", "users", "idempotency_keys"):
        assert after[table] == [row for row in before[table] if ALICE not in row], table


async def test_idempotency_keys_belong_to_their_owner(db: Database):
    async with db.transaction() as connection:
        await idempotency.store(connection, BOB, "shared", fingerprint="bob's", task=BOBS[0],
                                now=NOW, expires_at=NOW + timedelta(days=1))
    before = await _rows(db)
    async with db.transaction() as connection:
        for intruder in (ALICE, CAROL):
            assert await idempotency.find(connection, intruder, "shared", NOW) is None
            assert await idempotency.count(connection, intruder) == 0
        stored = await idempotency.find(connection, BOB, "shared", NOW)
        assert stored is not None and (stored.fingerprint, stored.task) == ("bob's", BOBS[0])
    assert await _rows(db) == before


async def test_a_claimed_key_does_not_block_another_owners_identical_key(
        db: Database, database_url: str):
    if database_url.startswith("sqlite"):  # one write transaction at a time: nothing to hold
        async with db.transaction() as connection:
            assert await idempotency.claim(connection, BOB, "shared") is True
        return
    async with db.transaction() as first, db.transaction() as second:
        assert await idempotency.claim(first, BOB, "shared") is True
        assert await idempotency.claim(second, ALICE, "shared") is True
        assert await idempotency.claim(second, BOB, "shared") is False  # Bob's own: held


async def test_purging_removes_expired_keys_only(db: Database):
    async with db.transaction() as connection:
        for owner, key, expires in ((BOB, "old", NOW), (ALICE, "old", NOW),
                                    (BOB, "fresh", NOW + timedelta(days=1))):
            await idempotency.store(connection, owner, key, fingerprint="f", task=BOBS[0],
                                    now=NOW - timedelta(days=1), expires_at=expires)
    async with db.transaction() as connection:
        assert await idempotency.purge_expired(connection, NOW) == 2
    async with db.read() as connection:
        assert await idempotency.find(connection, BOB, "fresh", NOW) is not None
        assert (await idempotency.count(connection, BOB),
                await idempotency.count(connection, ALICE)) == (1, 0)


COVERED = {
    "persistence.tasks.fetch", "persistence.tasks.fetch_for_update",
    "persistence.tasks.fetch_many", "persistence.tasks.search",
    "persistence.tasks.count", "persistence.tasks.count_by_status",
    "persistence.tasks.update_task", "persistence.tasks.delete_task",
    "persistence.tasks.insert_task", "persistence.users.record_write",
    "persistence.users.advance_revision", "persistence.users.tasks_revision",
    "persistence.users.lock_user", "persistence.users.delete_user",
    "persistence.idempotency.claim", "persistence.idempotency.find",
    "persistence.idempotency.store", "persistence.idempotency.count",
    "persistence.idempotency.purge_expired",
}
"""The storage functions the tests above call with another owner's id (or beside one)."""


async def test_the_user_record_keeps_what_a_token_leaves_out_and_notes_when_it_changed(
        db: Database):
    """A token without email or name keeps the stored ones; updated_at moves only on a change;
    every write advances the revision by one."""

    async def write(when: timedelta, email: str | None, name: str | None) -> tuple[Any, ...]:
        async with db.transaction() as connection:
            await users.record_write(connection, ALICE, email=email, name=name, now=NOW + when)
            row = (await connection.execute(text(
                "SELECT email, name, updated_at, tasks_revision FROM users WHERE id = :id"),
                {"id": ALICE})).one()
        return row.email, row.name, stored_instant(row.updated_at), row.tasks_revision

    start = await write(timedelta(hours=1), None, None)
    assert start[:3] == (f"{ALICE}@example.com", ALICE, NOW)  # nothing new: unchanged
    for step, (email, name) in enumerate([("new@example.com", None), (None, "Alice A."),
                                          ("new@example.com", "Alice A.")], start=2):
        row = await write(timedelta(hours=step), email, name)
        changed = step < 4
        assert row[:2] == ("new@example.com", ALICE if step == 2 else "Alice A.")
        assert row[2] == (NOW + timedelta(hours=step) if changed else NOW + timedelta(hours=3))
        assert row[3] == start[3] + step - 1
    async with db.read() as connection:  # nobody else's row moved
        others = (await connection.execute(text(
            "SELECT id, email, name FROM users WHERE id <> :id ORDER BY id"), {"id": ALICE})).all()
    expected = [(user, f"{user}@example.com", user) for user in sorted((BOB, CAROL))]
    assert [tuple(row) for row in others] == expected
