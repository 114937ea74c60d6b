"""The users table: one row per token subject, refreshed from the token's claims.

Every write to a user's tasks goes through this row first (``record_write`` or
``advance_revision``): it moves the user's task revision on and locks the row until the
transaction ends, so a user's writes, task-limit counts and erasure queue up in one order.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Table, bindparam, case, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from persistence.models import UserTable
from persistence.rows import fetch_all

users = UserTable.__table__  # type: ignore[attr-defined]
c = users.c

_REVISION = select(c.tasks_revision).where(c.id == bindparam("owner"))
_ADVANCE = (update(users).where(c.id == bindparam("owner"))
            .values(tasks_revision=c.tasks_revision + 1).returning(c.id))
_LOCK = select(c.id).where(c.id == bindparam("owner")).with_for_update()
_DELETE = delete(users).where(c.id == bindparam("owner")).returning(c.id)
_Upsert = postgresql.Insert | sqlite.Insert  # INSERT … ON CONFLICT is each dialect's own
_UPSERTS: dict[str, Callable[[Table], _Upsert]] = {
    "postgresql": postgresql.insert, "sqlite": sqlite.insert}
_FIRST_REVISION_BITS = 62  # far from the end of a BIGINT, however many writes follow


async def record_write(
    connection: AsyncConnection, user_id: str, *, email: str | None, name: str | None,
    now: datetime,
) -> None:
    """Insert the user, or refresh their email and name; either way advance their revision.

    One statement, safe under races; the row stays locked until the transaction ends.
    """
    await connection.execute(_upsert(connection.dialect.name), {
        "user_id": user_id, "new_email": email, "new_name": name, "now": now,
        "first_revision": secrets.randbits(_FIRST_REVISION_BITS),
    })


def _build_upsert(dialect_name: str) -> _Upsert:
    """record_write's statement for one kind of database."""
    statement = _UPSERTS[dialect_name](users).values(
        # Not named after columns: SQLAlchemy would also insert a value of that name itself.
        id=bindparam("user_id"), email=bindparam("new_email"), name=bindparam("new_name"),
        created_at=bindparam("now"), updated_at=bindparam("now"),
        tasks_revision=bindparam("first_revision"),
    )
    excluded = statement.excluded
    email_now = func.coalesce(excluded.email, c.email)
    name_now = func.coalesce(excluded.name, c.name)
    changed = email_now.is_distinct_from(c.email) | name_now.is_distinct_from(c.name)
    return statement.on_conflict_do_update(
        index_elements=[c.id],
        set_={
            c.email: email_now,
            c.name: name_now,
            c.updated_at: case((changed, excluded.updated_at), else_=c.updated_at),
            c.tasks_revision: c.tasks_revision + 1,
        },
    )


# Built once per kind of database, not for every write (it took a millisecond). Not decorated:
# mutmut leaves decorated functions alone.
_upsert = functools.cache(_build_upsert)


async def advance_revision(connection: AsyncConnection, user_id: str) -> bool:
    """Advance the user's task revision and lock their row; False when they have none."""
    return (await connection.execute(_ADVANCE, {"owner": user_id})).first() is not None


async def tasks_revision(connection: AsyncConnection, user_id: str) -> int | None:
    """The user's task revision (one primary-key lookup); None when they have no row."""
    rows = await fetch_all(connection, _REVISION, {"owner": user_id})
    return rows[0][0] if rows else None


async def lock_user(connection: AsyncConnection, user_id: str) -> bool:
    """Lock the user's row until the transaction ends; False when there is none."""
    return (await connection.execute(_LOCK, {"owner": user_id})).first() is not None


async def delete_user(connection: AsyncConnection, user_id: str) -> bool:
    """Delete the user's row and, by cascade, everything that references it."""
    return (await connection.execute(_DELETE, {"owner": user_id})).first() is not None
