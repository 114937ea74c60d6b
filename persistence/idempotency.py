"""Idempotency keys of create requests: which key created which task, until the key expires."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from persistence.models import IdempotencyKeyTable
from resolvers.domain import Task, TaskPriority, TaskStatus

keys = IdempotencyKeyTable.__table__  # type: ignore[attr-defined]
c = keys.c

_FIND = select(c.fingerprint, c.task).where(
    c.user_id == bindparam("owner"), c.key == bindparam("key"), c.expires_at > bindparam("now"))
_INSERT = insert(keys)
_PURGE_OWN = delete(keys).where(c.user_id == bindparam("owner"), c.expires_at <= bindparam("now"))
_PURGE = delete(keys).where(c.expires_at <= bindparam("now"))
_COUNT = select(func.count()).select_from(keys).where(c.user_id == bindparam("owner"))
_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(:lock)")
_TIMES = ("completed_at", "due_date", "created_at", "updated_at")


@dataclass(frozen=True, slots=True)
class StoredCreate:
    """What a key's first request was (its fingerprint) and the task it created."""

    fingerprint: str
    task: Task


async def claim(connection: AsyncConnection, owner: str, key: str) -> bool:
    """Hold the owner's key until the transaction ends; False while another request holds it.

    PostgreSQL: a transaction-scoped advisory lock, taken without waiting. SQLite runs one
    write transaction at a time, so a second request with the key can only run after the
    first has finished: there is nothing to hold.
    """
    if connection.dialect.name != "postgresql":
        return True
    result = await connection.execute(_TRY_LOCK, {"lock": _lock_id(owner, key)})
    return bool(result.scalar_one())


def _lock_id(owner: str, key: str) -> int:
    """A signed 64-bit advisory lock id for (owner, key); a collision only delays a retry."""
    digest = hashlib.blake2b(f"{owner}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def find(connection: AsyncConnection, owner: str, key: str, now: datetime
               ) -> StoredCreate | None:
    """The unexpired record of the owner's key, or None."""
    row = (await connection.execute(_FIND, {"owner": owner, "key": key, "now": now})).first()
    return None if row is None else StoredCreate(row.fingerprint, _decode(row.task))


async def store(connection: AsyncConnection, owner: str, key: str, *, fingerprint: str,
                task: Task, now: datetime, expires_at: datetime) -> None:
    """Record that the owner's ``key`` created ``task`` (their expired keys are purged first)."""
    await connection.execute(_PURGE_OWN, {"owner": owner, "now": now})
    await connection.execute(_INSERT, {
        "user_id": owner, "key": key, "fingerprint": fingerprint, "task": _encode(task),
        "created_at": now, "expires_at": expires_at,
    })


async def purge_expired(connection: AsyncConnection, now: datetime) -> int:
    """Delete every user's expired keys; how many there were."""
    return (await connection.execute(_PURGE, {"now": now})).rowcount


async def count(connection: AsyncConnection, owner: str) -> int:
    """How many keys the owner has stored (expired ones included)."""
    return int((await connection.execute(_COUNT, {"owner": owner})).scalar_one())


def _encode(task: Task) -> str:
    return orjson.dumps(task).decode()


def _decode(stored: str) -> Task:
    values: dict[str, Any] = orjson.loads(stored)
    values["id"] = uuid.UUID(values["id"])
    values["status"] = TaskStatus(values["status"])
    values["priority"] = TaskPriority(values["priority"])
    for name in _TIMES:
        if values[name] is not None:
            values[name] = datetime.fromisoformat(values[name])
    return Task(**values)
