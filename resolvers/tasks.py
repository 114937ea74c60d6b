"""Every rule about tasks. Plain async functions: no HTTP, no GraphQL, one owner each."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from persistence import tasks, users
from resolvers import retries
from resolvers.context import Context
from resolvers.domain import (
    MAX_SEARCH_LENGTH,
    MAX_TITLE_LENGTH,
    UPDATABLE_FIELDS,
    StatusCounts,
    Task,
    TaskFilter,
    TaskOrdering,
    TaskPriority,
    TaskStatus,
)
from resolvers.errors import (
    Forbidden,
    StaleVersion,
    TaskLimitReached,
    TaskNotFound,
    ValidationFailed,
)
from resolvers.inputs import (
    NewTask,
    TaskChanges,
    TaskInput,
    check_text,
    parse,
    parse_completion,
)
from resolvers.pagination import decode_cursor, encode_cursor

MAX_PAGE_SIZE = 1_000
Versions = Collection[int] | None
"""The versions a client accepts (If-Match / expectedVersion); None accepts any."""
ANY_TAG = "*"
"""Among the tags a client holds (If-None-Match): whatever the current one is."""


@dataclass(frozen=True, slots=True)
class TaskQuery:
    """One listing request: which tasks, in which order, which page."""

    filter: TaskFilter = field(default_factory=TaskFilter)
    ordering: TaskOrdering = field(default_factory=TaskOrdering)
    limit: int = 100
    offset: int = 0
    after: str | None = None


@dataclass(frozen=True, slots=True)
class TaskPage:
    tasks: list[Task]
    total: int
    has_more: bool
    ordering: TaskOrdering

    def cursor(self, task: Task) -> str:
        """The opaque cursor that continues a listing right after ``task``."""
        return encode_cursor(task, self.ordering)


def ensure_own_path(ctx: Context, path_user_id: str) -> None:
    """A path that names a user must name the caller."""
    if path_user_id != ctx.owner:
        raise Forbidden


async def list_tasks(
    ctx: Context, query: TaskQuery, *, max_limit: int = MAX_PAGE_SIZE
) -> TaskPage:
    """A page of the caller's tasks (at most ``max_limit``), with the total that match."""
    _check_query(query, max_limit)
    async with ctx.db.read() as connection:
        return await _page(connection, ctx, query)


async def _page(connection: AsyncConnection, ctx: Context, query: TaskQuery) -> TaskPage:
    return (await _found(connection, ctx, query, with_revision=False))[0]


async def _found(connection: AsyncConnection, ctx: Context, query: TaskQuery, *,
                 with_revision: bool) -> tuple[TaskPage, int | None]:
    """The page ``query`` asks for, and the caller's task revision ``with_revision``."""
    after = decode_cursor(query.after, query.ordering) if query.after else None
    found = await tasks.search(
        connection, ctx.owner, query.filter, query.ordering,
        limit=query.limit + 1, offset=query.offset, after=after, with_revision=with_revision,
    )
    page = TaskPage(tasks=found.tasks[: query.limit], total=found.total,
                    has_more=len(found.tasks) > query.limit, ordering=query.ordering)
    return page, found.revision


@dataclass(frozen=True, slots=True)
class Listing:
    """A listing's tag, and its page unless the client already holds the current one."""

    tag: str
    page: TaskPage | None


async def list_tasks_if_changed(
    ctx: Context, query: TaskQuery, *, scope: str, known_tags: Collection[str] = (),
    max_limit: int = MAX_PAGE_SIZE,
) -> Listing:
    """Like ``list_tasks``, but when the listing's tag is in ``known_tags`` no page is read.

    The tag changes with every write to the caller's tasks, through any door. Without tags to
    compare, it is read in the page's own statement (one snapshot); with them, it is read first
    and the page only when it differs, never after, so a page is never older than its tag: at
    worst a write between the two makes the next request read the page again. ``scope`` names
    the representation (the door and its URL), so a tag of one listing never validates another.
    """
    _check_query(query, max_limit)
    async with ctx.db.read() as connection:
        if not known_tags:  # a plain read: the page and its revision in one statement
            page, revision = await _found(connection, ctx, query, with_revision=True)
            return Listing(tag=_listing_tag(ctx.owner, revision, scope, query), page=page)
        revision = await users.tasks_revision(connection, ctx.owner)
        tag = _listing_tag(ctx.owner, revision, scope, query)
        if tag in known_tags or ANY_TAG in known_tags:
            return Listing(tag=tag, page=None)
        page = await _page(connection, ctx, query)
    return Listing(tag=tag, page=page)


def _listing_tag(owner: str, revision: int | None, scope: str, query: TaskQuery) -> str:
    """The entity tag of one listing at one revision of the owner's tasks."""
    state = f"{owner}\x00{revision}\x00{scope}\x00{query!r}"
    return hashlib.blake2b(state.encode(), digest_size=16).hexdigest()


async def status_counts(ctx: Context) -> StatusCounts:
    """The caller's tasks counted per status."""
    return await ctx.loaders.status_counts.load(ctx.owner)


async def find_task(ctx: Context, task_id: str | uuid.UUID) -> Task | None:
    """The caller's task, or None (also for ids that are not UUIDs)."""
    key = _as_uuid(task_id)
    return None if key is None else await ctx.loaders.task.load(key)


async def get_task(ctx: Context, task_id: str | uuid.UUID) -> Task:
    """The caller's task; TaskNotFound when it is missing or someone else's."""
    task = await find_task(ctx, task_id)
    if task is None:
        raise TaskNotFound
    return task


async def create_task(
    ctx: Context, data: TaskInput, *, title_max: int = MAX_TITLE_LENGTH,
    idempotency_key: str | None = None,
) -> Task:
    """Create a task for the caller (recording the caller in ``users`` first).

    With an ``idempotency_key`` already used for the same request, nothing is created and the
    task that request created is returned as it was then (see ``resolvers.retries``).
    """
    new = parse(NewTask, data, title_max=title_max)
    key = None if idempotency_key is None else retries.check_key(idempotency_key)
    now = ctx.clock()
    task = Task(
        id=uuid.uuid4(), user_id=ctx.owner, title=new.title, description=new.description,
        priority=new.priority or TaskPriority.MEDIUM, due_date=new.due_date,
        created_at=now, updated_at=now, version=1,
        **_completion_state(None, new.status, new.completed, now),
    )
    async with ctx.db.transaction() as connection:
        if key is not None and (first := await retries.replay(connection, ctx, key, new)):
            return first
        await _insert_within_limit(connection, ctx, task)
        if key is not None:
            await retries.remember(connection, ctx, key, new, task)
    return task


async def _insert_within_limit(connection: AsyncConnection, ctx: Context, task: Task) -> None:
    """Record the write on the caller's row, then insert ``task`` if the caller has room."""
    principal = ctx.principal
    await users.record_write(connection, principal.user_id, email=principal.email,
                             name=principal.name, now=task.created_at)
    # Counted under the lock record_write holds on the caller's row: concurrent creates of one
    # user count one after the other, so none slips past the limit.
    if await tasks.count(connection, ctx.owner, TaskFilter()) >= ctx.max_tasks:
        raise TaskLimitReached(ctx.max_tasks)
    await tasks.insert_task(connection, task)


async def update_task(
    ctx: Context,
    task_id: str | uuid.UUID,
    data: TaskInput,
    *,
    expected_versions: Versions = None,
    title_max: int = MAX_TITLE_LENGTH,
) -> Task:
    """Change the fields the client sent; a body that sends none is invalid."""
    key = _require_uuid(task_id)
    async with ctx.db.transaction() as connection:
        current = await _locked(connection, ctx, key)
        # The body is parsed only now: a missing task is a 404 even when the body is invalid.
        changes = parse(TaskChanges, data, title_max=title_max)
        if not changes.sent:
            raise ValidationFailed.single(
                "body", f"nothing to update: send at least one of {', '.join(UPDATABLE_FIELDS)}"
            )
        _check_version(current, expected_versions)
        values = _changed_values(current, changes, ctx.clock())
        return await _save(connection, ctx, current, values)


async def set_completed(
    ctx: Context, task_id: str | uuid.UUID, completed: bool, *, expected_versions: Versions = None
) -> Task:
    """Mark the task completed or not; setting the state it already has changes nothing."""
    return await complete_task(ctx, task_id, {"completed": completed},
                               expected_versions=expected_versions)


async def toggle_completed(
    ctx: Context, task_id: str | uuid.UUID, *, expected_versions: Versions = None
) -> Task:
    """Flip the task between completed and not."""
    return await complete_task(ctx, task_id, None, expected_versions=expected_versions)


async def complete_task(
    ctx: Context, task_id: str | uuid.UUID, data: TaskInput, *, expected_versions: Versions = None
) -> Task:
    """``{"completed": bool}`` sets the state; no body, an empty one or ``{}`` toggles it."""
    key = _require_uuid(task_id)
    async with ctx.db.transaction() as connection:
        current = await _locked(connection, ctx, key)
        requested = parse_completion(data)  # after the lookup: 404 before 400, as above
        _check_version(current, expected_versions)
        completed = (not current.completed) if requested is None else requested
        now = ctx.clock()
        values = _differences(current, _completion_state(current, None, completed, now))
        return await _save(connection, ctx, current, values, now=now)


async def delete_task(
    ctx: Context, task_id: str | uuid.UUID, *, expected_versions: Versions = None
) -> uuid.UUID:
    """Delete the caller's task and return its id."""
    key = _require_uuid(task_id)
    async with ctx.db.transaction() as connection:
        current = await _locked(connection, ctx, key)
        _check_version(current, expected_versions)
        await tasks.delete_task(connection, ctx.owner, key)
    return key


def _completion_state(
    current: Task | None,
    status: TaskStatus | None,
    completed: bool | None,
    now: datetime,
) -> dict[str, Any]:
    """status, completed and completed_at, kept consistent.

    completed is true exactly when status is completed, and completed_at is set exactly then.
    """
    contradicts = completed is not None and completed != (status is TaskStatus.COMPLETED)
    if status is not None and contradicts:
        raise ValidationFailed.single("completed", f"contradicts status {status.value!r}")
    if status is None:
        status = _status_for(current, completed)
    done = status is TaskStatus.COMPLETED
    kept = current.completed_at if current is not None and current.completed else None
    return {"status": status, "completed": done, "completed_at": (kept or now) if done else None}


def _status_for(current: Task | None, completed: bool | None) -> TaskStatus:
    if completed:
        return TaskStatus.COMPLETED
    if current is None or (completed is False and current.status is TaskStatus.COMPLETED):
        return TaskStatus.PENDING  # reopening a completed task makes it pending again
    return current.status


def _changed_values(current: Task, changes: TaskChanges, now: datetime) -> dict[str, Any]:
    sent = {name: getattr(changes, name) for name in changes.sent}
    state = _completion_state(current, sent.pop("status", None), sent.pop("completed", None), now)
    return _differences(current, {**sent, **state})


def _differences(current: Task, values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if getattr(current, name) != value}


async def _save(
    connection: AsyncConnection, ctx: Context, current: Task, values: dict[str, Any],
    *, now: datetime | None = None,
) -> Task:
    """Write ``values`` (bumping version and updated_at), or return ``current`` when empty."""
    if not values:
        return current
    values["updated_at"] = now or ctx.clock()
    task = await tasks.update_task(connection, ctx.owner, current.id, values)
    assert task is not None  # the row is locked by this transaction
    return task


async def _locked(connection: AsyncConnection, ctx: Context, key: uuid.UUID) -> Task:
    """The caller's task, locked, after the caller's row (every writer locks in that order).

    Advancing the revision first also makes the listing tag change with this write; if the
    write fails, the transaction rolls the revision back with it.
    """
    await users.advance_revision(connection, ctx.owner)
    task = await tasks.fetch_for_update(connection, ctx.owner, key)
    if task is None:
        raise TaskNotFound
    return task


def _check_version(current: Task, expected_versions: Versions) -> None:
    if expected_versions is not None and current.version not in expected_versions:
        raise StaleVersion


def _check_query(query: TaskQuery, max_limit: int) -> None:
    if not 1 <= query.limit <= max_limit:
        raise ValidationFailed.single("limit", f"must be between 1 and {max_limit}")
    if query.offset < 0:
        raise ValidationFailed.single("offset", "must not be negative")
    if query.filter.search is not None:
        try:
            check_text(query.filter.search, max_length=MAX_SEARCH_LENGTH)
        except ValueError as error:
            raise ValidationFailed.single("search", str(error)) from None


def _as_uuid(task_id: str | uuid.UUID) -> uuid.UUID | None:
    if isinstance(task_id, uuid.UUID):
        return task_id
    try:
        return uuid.UUID(task_id)
    except (ValueError, AttributeError, TypeError):
        return None


def _require_uuid(task_id: str | uuid.UUID) -> uuid.UUID:
    key = _as_uuid(task_id)
    if key is None:
        raise TaskNotFound
    return key
