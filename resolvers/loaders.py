"""Per-request DataLoaders bound to one user: batched, cached for one request only."""

from __future__ import annotations

import uuid

from aiodataloader import DataLoader

from persistence import tasks
from persistence.database import RequestDatabase
from resolvers.domain import StatusCounts, Task


class Loaders:
    """The loaders of one request; each batch function filters by the bound owner."""

    def __init__(self, db: RequestDatabase, owner: str) -> None:
        self._db = db
        self._owner = owner
        self.task: DataLoader[uuid.UUID, Task | None] = DataLoader(self._tasks_by_id)
        self.status_counts: DataLoader[str, StatusCounts] = DataLoader(self._status_counts)

    def remember(self, task: Task) -> None:
        """Replace what this request knows of a task after it changed."""
        self.task.clear(task.id).prime(task.id, task)
        self._forget_aggregates()

    def forget(self, task_id: uuid.UUID) -> None:
        self.task.clear(task_id).prime(task_id, None)
        self._forget_aggregates()

    def forget_everything(self) -> None:
        """Drop every task and count this request knows (after the user's data was erased)."""
        self.task.clear_all()
        self._forget_aggregates()

    def _forget_aggregates(self) -> None:
        self.status_counts.clear_all()

    async def _tasks_by_id(self, ids: list[uuid.UUID]) -> list[Task | None]:
        async with self._db.read() as connection:
            found = {r.id: r for r in await tasks.fetch_many(connection, self._owner, ids)}
        return [found.get(task_id) for task_id in ids]

    async def _status_counts(self, owners: list[str]) -> list[StatusCounts]:
        async with self._db.read() as connection:
            counts = await tasks.count_by_status(connection, self._owner)
        return [counts for _ in owners]
