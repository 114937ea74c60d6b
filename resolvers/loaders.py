"""Per-request DataLoaders bound to one user: batched, cached for one request only."""

from __future__ import annotations

import uuid
from functools import partial

from aiodataloader import DataLoader

from persistence import tasks
from persistence.database import RequestDatabase
from resolvers.domain import StatusCounts, Task


class Loaders:
    """The loaders of one request; each batch function filters by the bound owner."""

    def __init__(self, db: RequestDatabase, owner: str) -> None:
        # Batch functions that do not hold the Loaders: no reference cycle, so a request's
        # loaders, and the rows they cached, are freed as soon as the request is done.
        self.task: DataLoader[uuid.UUID, Task | None] = DataLoader(
            partial(_tasks_by_id, db, owner))
        self.status_counts: DataLoader[str, StatusCounts] = DataLoader(
            partial(_status_counts, db, owner))


async def _tasks_by_id(db: RequestDatabase, owner: str, ids: list[uuid.UUID]) -> list[Task | None]:
    async with db.read() as connection:
        found = {r.id: r for r in await tasks.fetch_many(connection, owner, ids)}
    return [found.get(task_id) for task_id in ids]


async def _status_counts(db: RequestDatabase, owner: str, owners: list[str]) -> list[StatusCounts]:
    async with db.read() as connection:
        counts = await tasks.count_by_status(connection, owner)
    return [counts for _ in owners]
