"""Plain helpers for tests: tokens, headers, and making tasks through the public API."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jwt
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from persistence.database import Database
from persistence.migrate import upgrade
from persistence.urls import parse_database_url

TEST_SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
ALICE, BOB, CAROL = "alice-0001", "bob-0002", "carol-0003"


def token(user_id: str, *, secret: str = TEST_SECRET, ttl: int = 3600, **claims: Any) -> str:
    """An HS256 token as a frontend signing with the shared secret makes one (PyJWT, not ours)."""
    now = int(time.time())
    payload = {"sub": user_id, "iat": now, "exp": now + ttl, **claims}
    return jwt.encode(payload, secret, algorithm="HS256")


def auth(user_id: str, **claims: Any) -> dict[str, str]:
    """Headers that authenticate as ``user_id``."""
    return {"Authorization": f"Bearer {token(user_id, **claims)}"}


def tasks_url(user_id: str, task_id: str | None = None, suffix: str = "") -> str:
    base = f"/api/{user_id}/tasks"
    return f"{base}/{task_id}{suffix}" if task_id else base


async def make_task(client: httpx.AsyncClient, owner: str, /, **fields: Any) -> dict[str, Any]:
    """Create a task for ``owner`` through surface A and return its JSON."""
    fields.setdefault("title", "A task")
    response = await client.post(tasks_url(owner), json=fields, headers=auth(owner))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def stored_instant(value: Any) -> datetime:
    """A date-time column read back raw: aware on PostgreSQL, naive UTC text or value on SQLite."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is the contract's error body with ``status`` and ``code``."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def migrated_sqlite(directory: Path) -> str:
    """The URL of a new SQLite database in ``directory``, migrated to the head."""
    url = f"sqlite:///{directory / 'todo.db'}"
    upgrade(url)
    return url


async def wipe(database: Database) -> None:
    """Delete every user and, by cascade, their tasks and idempotency keys."""
    async with database.transaction() as connection:
        await connection.execute(text("DELETE FROM tasks"))
        await connection.execute(text("DELETE FROM idempotency_keys"))
        await connection.execute(text("DELETE FROM users"))


async def empty_tables(database_url: str) -> None:
    """Delete every task and user, for tests that run the app outside the ``app`` fixture."""
    database = Database.connect(parse_database_url(database_url))
    await wipe(database)
    await database.dispose()


class AuditReasons(logging.Handler):
    """The reasons the app audited for refused requests, in order (never the token)."""

    def __init__(self) -> None:
        super().__init__()
        self.reasons: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.reasons.append(getattr(record, "reason", "?"))


@contextmanager
def audit_reasons() -> Iterator[AuditReasons]:
    """Collect the audit log's reasons while the block runs."""
    # The app's loggers do not propagate to the root logger, so caplog cannot see them.
    handler = AuditReasons()
    logger = logging.getLogger("todo_api.audit")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def metric(exposition: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus exposition (0 when absent)."""
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0
