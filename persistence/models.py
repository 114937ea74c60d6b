"""Tables and the plain records read from them."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    Uuid,
)
from sqlmodel import Field, SQLModel

MAX_USER_ID_LENGTH = 255
MAX_TITLE_LENGTH = 255


class TaskStatus(enum.StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class TaskPriority(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps none of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is UTC:  # what asyncpg returns for timestamptz
            return value
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class User(SQLModel, table=True):
    __tablename__: ClassVar[str] = "users"

    id: str = Field(sa_column=Column(String(MAX_USER_ID_LENGTH), primary_key=True))
    email: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    name: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class Task(SQLModel, table=True):
    __tablename__: ClassVar[str] = "tasks"
    __table_args__ = (
        Index("ix_tasks_user_id_created_at", "user_id", "created_at"),
        Index("ix_tasks_user_id_status", "user_id", "status"),
        Index("ix_tasks_user_id_due_date", "user_id", "due_date"),
        CheckConstraint(
            "status IN ('pending', 'in_progress', 'completed')", name="ck_tasks_status"
        ),
        CheckConstraint("priority IN ('low', 'medium', 'high')", name="ck_tasks_priority"),
        CheckConstraint("completed = (status = 'completed')", name="ck_tasks_completed_status"),
        CheckConstraint(
            "(completed_at IS NOT NULL) = completed", name="ck_tasks_completed_at"
        ),
    )

    id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    user_id: str = Field(
        sa_column=Column(
            String(MAX_USER_ID_LENGTH),
            ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        )
    )
    title: str = Field(sa_column=Column(String(MAX_TITLE_LENGTH), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    completed: bool = Field(sa_column=Column(Boolean, nullable=False))
    completed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    priority: str = Field(sa_column=Column(String(8), nullable=False))
    due_date: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """One task as stored: what resolvers return and doors render."""

    id: uuid.UUID
    user_id: str
    title: str
    description: str | None
    completed: bool
    completed_at: datetime | None
    status: TaskStatus
    priority: TaskPriority
    due_date: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int


@dataclass(frozen=True, slots=True)
class StatusCounts:
    pending: int = 0
    in_progress: int = 0
    completed: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.in_progress + self.completed
