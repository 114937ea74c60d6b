"""The users table: one row per token subject, refreshed from the token's claims."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from persistence.models import UserTable

users = UserTable.__table__  # type: ignore[attr-defined]


async def upsert_user(
    connection: AsyncConnection, user_id: str, *, email: str | None, name: str | None, now: datetime
) -> None:
    """Insert the user or refresh its email and name, atomically (safe under races)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(users).values(
        id=user_id, email=email, name=name, created_at=now, updated_at=now
    )
    excluded = statement.excluded
    changed = (users.c.email.is_distinct_from(excluded.email)
               | users.c.name.is_distinct_from(excluded.name))
    statement = statement.on_conflict_do_update(
        index_elements=[users.c.id],
        set_={
            "email": func.coalesce(excluded.email, users.c.email),
            "name": func.coalesce(excluded.name, users.c.name),
            "updated_at": excluded.updated_at,
        },
        where=changed & (excluded.email.is_not(None) | excluded.name.is_not(None)),
    )
    await connection.execute(statement)

