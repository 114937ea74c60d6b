"""Safe retries of creates: a request repeated with its Idempotency-Key creates nothing more.

The same key with the same request within ``KEY_LIFETIME`` answers the task the first request
created, as it was then; the same key with another request is refused, and so is a retry that
arrives while the first request is still running. Keys belong to one user. A key is stored in
the transaction that creates its task, so there is never one without the other.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from persistence import idempotency
from persistence.database import Database
from resolvers.context import Context
from resolvers.domain import MAX_IDEMPOTENCY_KEY_LENGTH, Task
from resolvers.errors import IdempotencyKeyInUse, IdempotencyKeyReused, ValidationFailed
from resolvers.inputs import NewTask

KEY_LIFETIME = timedelta(hours=24)


def check_key(key: str, *, field: str = "idempotency_key") -> str:
    """``key`` unchanged when it is 1-255 printable ASCII characters, else ValidationFailed."""
    if not key:
        raise ValidationFailed.single(field, "must not be empty")
    if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise ValidationFailed.single(
            field, f"must be at most {MAX_IDEMPOTENCY_KEY_LENGTH} characters")
    if not all(" " <= ch <= "~" for ch in key):
        raise ValidationFailed.single(field, "must be printable ASCII text")
    return key


def fingerprint(new: NewTask) -> str:
    """What identifies a create request: its validated fields, whichever door it came through."""
    canonical = orjson.dumps(new.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


async def replay(connection: AsyncConnection, ctx: Context, key: str, new: NewTask
                 ) -> Task | None:
    """The task the key already created (None: the key is new); holds the key meanwhile."""
    if not await idempotency.claim(connection, ctx.owner, key):
        raise IdempotencyKeyInUse
    stored = await idempotency.find(connection, ctx.owner, key, ctx.clock())
    if stored is None:
        return None
    if stored.fingerprint != fingerprint(new):
        raise IdempotencyKeyReused
    return stored.task


async def remember(connection: AsyncConnection, ctx: Context, key: str, new: NewTask,
                   task: Task) -> None:
    """Store that ``key`` (sent with ``new``) created ``task``, in the transaction creating it."""
    now = ctx.clock()
    await idempotency.store(connection, ctx.owner, key, fingerprint=fingerprint(new), task=task,
                            now=now, expires_at=now + KEY_LIFETIME)


async def purge_expired_keys(db: Database) -> int:
    """Delete every user's expired keys (each user's own go as they create with a key)."""
    async with db.transaction() as connection:
        return await idempotency.purge_expired(connection, datetime.now(UTC))
