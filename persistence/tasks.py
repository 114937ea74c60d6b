"""Every SQL statement about tasks, always scoped to one owner."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    Uuid,
    and_,
    any_,
    bindparam,
    case,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import KeyedColumnElement

from persistence.models import TaskTable, UserTable
from persistence.rows import fetch_all, reads_from_asyncpg
from resolvers.domain import (
    RANKED_FIELDS,
    TASK_FIELDS,
    SortField,
    SortKey,
    StatusCounts,
    Task,
    TaskFilter,
    TaskOrdering,
    TaskPriority,
    TaskStatus,
)

tasks = TaskTable.__table__  # type: ignore[attr-defined]
c = tasks.c
_COLUMNS = tuple(c[name] for name in TASK_FIELDS)  # a row of these is Task(*row)


def _rank(by: SortField) -> ColumnElement[Any]:
    return case({m.value: i for i, m in enumerate(RANKED_FIELDS[by])}, value=c[by.value])


_SORT_COLUMNS: dict[SortField, ColumnElement[Any]] = {
    by: _rank(by) if by in RANKED_FIELDS else c[by.value] for by in SortField
}


_WIDTH = len(TASK_FIELDS)
_MEMBERS = tuple((TASK_FIELDS.index(name), {m.value: m for m in members})
                 for name, members in (("status", TaskStatus), ("priority", TaskPriority)))


_DUE_DATE = TASK_FIELDS.index("due_date")


def _task(row: Any) -> Task:
    """The Task a row of _COLUMNS holds (its enum columns arrive as their values)."""
    values = list(row[:_WIDTH])
    for position, members in _MEMBERS:
        values[position] = members[values[position]]
    due = values[_DUE_DATE]
    if due is not None and due.tzinfo is None:  # asyncpg: the calendar's first/last instant
        values[_DUE_DATE] = due.replace(tzinfo=UTC)  # (its -infinity/infinity) comes naive
    return Task(*values)


def _filter_params(owner: str, flt: TaskFilter) -> dict[str, Any]:
    """The bound values of ``flt``; which keys are present decides the statement's shape."""
    params: dict[str, Any] = {"owner": owner}
    if flt.status is not None:
        params["status"] = flt.status.value
    if flt.completed is not None:
        params["completed"] = flt.completed
    if flt.priority is not None:
        params["priority"] = flt.priority.value
    if flt.search:
        params["search"] = _escape_like(flt.search)
    if flt.due_after is not None:
        params["due_after"] = flt.due_after
    if flt.due_before is not None:
        params["due_before"] = flt.due_before
    return params


def _escape_like(text: str) -> str:
    """``text`` matched literally by LIKE ... ESCAPE '/' (what autoescape=True does)."""
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


def _filter_clauses(shape: frozenset[str]) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [c.user_id == bindparam("owner")]
    if "status" in shape:
        clauses.append(c.status == bindparam("status"))
    if "completed" in shape:
        clauses.append(c.completed == bindparam("completed"))
    if "priority" in shape:
        clauses.append(c.priority == bindparam("priority"))
    if "search" in shape:
        clauses.append(or_(
            c.title.icontains(bindparam("search"), escape="/"),
            c.description.icontains(bindparam("search"), escape="/"),
        ))
    if "due_after" in shape:
        clauses.append(c.due_date >= bindparam("due_after"))
    if "due_before" in shape:
        clauses.append(c.due_date <= bindparam("due_before"))
    return clauses


def _order_by(ordering: TaskOrdering) -> list[ColumnElement[Any]]:
    column = _SORT_COLUMNS[ordering.field]
    keys = [column.desc() if ordering.descending else column.asc(),
            c.id.desc() if ordering.descending else c.id.asc()]
    if ordering.field is SortField.DUE_DATE:
        keys.insert(0, c.due_date.is_(None).asc())  # tasks without a due date sort last
    return keys


def _after_params(key: SortKey) -> dict[str, Any]:
    params = {"after_id": key.id}
    if key.value is not None:
        params["after_value"] = key.value
    return params


def _after(ordering: TaskOrdering, shape: frozenset[str]) -> ColumnElement[bool]:
    """Rows strictly after the bound key in ``ordering`` (keyset pagination)."""
    column = _SORT_COLUMNS[ordering.field]
    has_value = "after_value" in shape

    def beyond(col: ColumnElement[Any] | KeyedColumnElement[Any], value: Any) -> Any:
        return col < value if ordering.descending else col > value

    same_value = (column.is_not_distinct_from(bindparam("after_value")) if has_value
                  else column.is_(None))
    after = or_(and_(same_value, beyond(c.id, bindparam("after_id"))))
    if has_value:
        after = or_(beyond(column, bindparam("after_value")), after)
        if ordering.field is SortField.DUE_DATE:
            after = or_(c.due_date.is_(None), after)
    elif ordering.field is not SortField.DUE_DATE:
        return false()
    return after


# The owner's task revision (users.tasks_revision), to ride along with a page in one statement.
_REVISION = (select(UserTable.__table__.c.tasks_revision)  # type: ignore[attr-defined]
             .where(UserTable.__table__.c.id == bindparam("owner"))  # type: ignore[attr-defined]
             .scalar_subquery().label("revision"))


@functools.cache  # finite: one statement per filter combination, ordering and cursor kind
def _search_statement(ordering: TaskOrdering, shape: frozenset[str], with_revision: bool
                      ) -> Select[Any]:
    """A page of tasks with their total, every value bound at execution (built once)."""
    clauses = _filter_clauses(shape)
    total = select(func.count()).select_from(tasks).where(*clauses).scalar_subquery()
    if "after_id" in shape:
        clauses.append(_after(ordering, shape))
    extra = (_REVISION,) if with_revision else ()
    return (select(*_COLUMNS, total.label("total"), *extra).where(*clauses)
            .order_by(*_order_by(ordering))
            .limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer)))


@functools.cache
def _count_statement(shape: frozenset[str], with_revision: bool) -> Select[Any]:
    total = select(func.count()).select_from(tasks).where(*_filter_clauses(shape))
    return total.add_columns(_REVISION) if with_revision else total


_INSERT = insert(tasks)
_FETCH = select(*_COLUMNS).where(c.user_id == bindparam("owner"), c.id == bindparam("id"))
_FETCH_LOCKED = _FETCH.with_for_update()
_FETCH_MANY = select(*_COLUMNS).where(c.user_id == bindparam("owner"),
                                      c.id.in_(bindparam("ids", expanding=True)))
# The same on PostgreSQL, with the ids as one array parameter (persistence.rows binds values).
_FETCH_ANY = select(*_COLUMNS).where(c.user_id == bindparam("owner"),
                                     c.id == any_(bindparam("ids", type_=ARRAY(Uuid))))


async def fetch(connection: AsyncConnection, owner: str, task_id: uuid.UUID) -> Task | None:
    """The owner's task ``task_id``."""
    rows = await fetch_all(connection, _FETCH, {"owner": owner, "id": task_id})
    return _task(rows[0]) if rows else None


async def fetch_for_update(connection: AsyncConnection, owner: str, task_id: uuid.UUID
                           ) -> Task | None:
    """The owner's task ``task_id``, locked until the transaction ends (PostgreSQL; SQLite has
    one writer at a time)."""
    rows = await fetch_all(connection, _FETCH_LOCKED, {"owner": owner, "id": task_id})
    return _task(rows[0]) if rows else None


async def fetch_many(
    connection: AsyncConnection, owner: str, task_ids: Iterable[uuid.UUID]
) -> list[Task]:
    """The owner's tasks among ``task_ids``, in one statement, in no particular order."""
    query = _FETCH_ANY if reads_from_asyncpg(connection.dialect) else _FETCH_MANY
    rows = await fetch_all(connection, query, {"owner": owner, "ids": list(task_ids)})
    return [_task(row) for row in rows]


@dataclass(frozen=True, slots=True)
class Found:
    """One page of tasks, how many match in all, and (when asked) the owner's task revision."""

    tasks: list[Task]
    total: int
    revision: int | None = None


async def search(
    connection: AsyncConnection,
    owner: str,
    flt: TaskFilter,
    ordering: TaskOrdering,
    *,
    limit: int,
    offset: int = 0,
    after: SortKey | None = None,
    with_revision: bool = False,
) -> Found:
    """One page of the owner's tasks matching ``flt``, and how many match in all.

    One statement (the total, and the revision ``with_revision``, ride along as scalar
    subqueries), so they all come from the same snapshot; only an empty page needs a second
    statement for them.
    """
    params = _filter_params(owner, flt)
    if after is not None:
        params |= _after_params(after)
    query = _search_statement(ordering, frozenset(params), with_revision)
    rows = await fetch_all(connection, query, {**params, "limit": limit, "offset": offset})
    if not rows:
        return await _none_found(connection, owner, flt, with_revision)
    first = rows[0]  # the total (and revision) ride along after the task's columns
    return Found([_task(row) for row in rows], int(first[_WIDTH]),
                 first[_WIDTH + 1] if with_revision else None)


async def _none_found(connection: AsyncConnection, owner: str, flt: TaskFilter,
                      with_revision: bool) -> Found:
    params = _filter_params(owner, flt)
    [row] = await fetch_all(connection, _count_statement(frozenset(params), with_revision),
                            params)
    return Found([], int(row[0]), row[1] if with_revision else None)


async def count(connection: AsyncConnection, owner: str, flt: TaskFilter) -> int:
    """How many of the owner's tasks match ``flt``."""
    params = _filter_params(owner, flt)
    [row] = await fetch_all(connection, _count_statement(frozenset(params), False), params)
    return int(row[0])


async def count_by_status(connection: AsyncConnection, owner: str) -> StatusCounts:
    """The owner's tasks counted per status."""
    query = select(c.status, func.count()).where(c.user_id == owner).group_by(c.status)
    counts = {status: int(n) for status, n in await connection.execute(query)}
    return StatusCounts(**{s.value: counts.get(s, 0) for s in TaskStatus})


async def insert_task(connection: AsyncConnection, task: Task) -> None:
    """Store a new task."""
    await connection.execute(_INSERT, {name: getattr(task, name) for name in TASK_FIELDS})


async def update_task(
    connection: AsyncConnection, owner: str, task_id: uuid.UUID, values: Mapping[str, Any]
) -> Task | None:
    """Apply ``values`` to the owner's task, add one to its version, and return it."""
    query = (update(tasks).where(c.user_id == owner, c.id == task_id)
             .values(**values, version=c.version + 1).returning(*_COLUMNS))
    row = (await connection.execute(query)).first()
    return _task(row) if row else None


async def delete_task(connection: AsyncConnection, owner: str, task_id: uuid.UUID) -> bool:
    """Delete the owner's task; False when there was none."""
    query = delete(tasks).where(c.user_id == owner, c.id == task_id).returning(c.id)
    return (await connection.execute(query)).first() is not None
