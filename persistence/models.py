"""The tables: how users and tasks are stored."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    TypeDecorator,
    Uuid,
)
from sqlmodel import Field, SQLModel

from persistence.rows import reads_from_asyncpg
from resolvers.domain import (
    MAX_IDEMPOTENCY_KEY_LENGTH,
    MAX_TITLE_LENGTH,
    MAX_USER_ID_LENGTH,
    TaskPriority,
    TaskStatus,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps none of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """In UTC (every value is aware): SQLite then keeps its wall clock, without offset."""
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """SQLite's values, which come back naive (asyncpg's skip this: see result_processor)."""
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        """None on asyncpg: it already returns timestamptz as UTC datetimes (a call per value
        saved: four per task read), but for the calendar's first and last instant, which it
        returns naive (its -infinity and infinity): persistence.tasks mends the one column a
        client sets, due_date; the others are set by the server to the present."""
        if reads_from_asyncpg(dialect):
            return None
        return super().result_processor(dialect, coltype)


POSTGRESQL_ONLY = {"dialects": {"postgresql"}}
"""Index info: the index exists only on these databases (search indexes, migration 0002)."""


def _one_of(column: str, members: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(m.value) for m in members)})"


def _owner_column() -> Column[str]:
    """The owning user of a row: erasing the user erases the row (ON DELETE CASCADE)."""
    return Column(String(MAX_USER_ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False)


class UserTable(SQLModel, table=True):
    __tablename__: ClassVar[str] = "users"

    id: str = Field(sa_column=Column(String(MAX_USER_ID_LENGTH), primary_key=True))
    email: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    name: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # Moves on with every write to the user's tasks (the list's entity tag is made from it).
    # A new row starts at a random value, so a user erased and created again never repeats
    # the revisions, and so the tags, of their earlier life.
    tasks_revision: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))


class TaskTable(SQLModel, table=True):
    """One row per task; its columns are exactly the fields of ``resolvers.domain.Task``."""

    __tablename__: ClassVar[str] = "tasks"
    __table_args__ = (
        Index("ix_tasks_user_id_created_at", "user_id", "created_at"),
        Index("ix_tasks_user_id_status", "user_id", "status"),
        Index("ix_tasks_user_id_due_date", "user_id", "due_date"),
        *(Index(f"ix_tasks_user_id_{column}_trgm", "user_id", column, postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"}, info=POSTGRESQL_ONLY)
          for column in ("title", "description")),
        CheckConstraint(_one_of("status", TaskStatus), name="ck_tasks_status"),
        CheckConstraint(_one_of("priority", TaskPriority), name="ck_tasks_priority"),
        CheckConstraint("completed = (status = 'completed')", name="ck_tasks_completed_status"),
        CheckConstraint(
            "(completed_at IS NOT NULL) = completed", name="ck_tasks_completed_at"
        ),
    )

    id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    user_id: str = Field(sa_column=_owner_column())
    title: str = Field(sa_column=Column(String(MAX_TITLE_LENGTH), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    completed: bool = Field(sa_column=Column(Boolean, nullable=False))
    completed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # Stored as their values; persistence.tasks turns them back into members as it reads rows.
    status: TaskStatus = Field(sa_column=Column(String(16), nullable=False))
    priority: TaskPriority = Field(sa_column=Column(String(8), nullable=False))
    due_date: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))


class IdempotencyKeyTable(SQLModel, table=True):
    """A create request's Idempotency-Key, its fingerprint and the task it created."""

    __tablename__: ClassVar[str] = "idempotency_keys"
    __table_args__ = (
        PrimaryKeyConstraint("user_id", "key", name="pk_idempotency_keys"),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    user_id: str = Field(sa_column=_owner_column())
    key: str = Field(sa_column=Column(String(MAX_IDEMPOTENCY_KEY_LENGTH), nullable=False))
    fingerprint: str = Field(sa_column=Column(String(64), nullable=False))
    task: str = Field(sa_column=Column(Text, nullable=False))  # JSON: the task as first answered
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
