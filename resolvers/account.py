"""Erasure: everything held about a user removed, at their request or an operator's."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from persistence import idempotency, tasks, users
from persistence.database import Database, RequestDatabase
from resolvers.context import Context
from resolvers.domain import TaskFilter

audit = logging.getLogger("todo_api.audit")


@dataclass(frozen=True, slots=True)
class Erasure:
    """What one erasure removed (counts only: an erasure keeps nothing of what it removed)."""

    user_id: str
    tasks: int
    idempotency_keys: int
    user_row: bool


async def erase_my_data(ctx: Context) -> Erasure:
    """Erase the caller's user row, tasks and idempotency keys (nothing to erase is fine)."""
    return await erase_user(ctx.db, ctx.owner, requested_by="user")


async def erase_user(db: Database | RequestDatabase, user_id: str, *, requested_by: str
                     ) -> Erasure:
    """Erase ``user_id``'s row and, by cascade, everything that references it; one transaction.

    The row is locked first, as every write to the user's tasks locks it first: a write that
    began earlier finishes before the erasure counts and deletes, and one that begins later
    waits, then finds no row and creates a new user (a create) or no task (anything else).
    """
    async with db.transaction() as connection:
        if await users.lock_user(connection, user_id):
            task_count = await tasks.count(connection, user_id, TaskFilter())
            key_count = await idempotency.count(connection, user_id)
            await users.delete_user(connection, user_id)
            erasure = Erasure(user_id, task_count, key_count, user_row=True)
        else:
            erasure = Erasure(user_id, 0, 0, user_row=False)
    audit.info("user data erased", extra={
        "user_id": user_id, "requested_by": requested_by, "tasks": erasure.tasks,
        "idempotency_keys": erasure.idempotency_keys, "user_row": erasure.user_row,
    })
    return erasure
