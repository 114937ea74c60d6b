"""URLs and assertions for surfaces B and C (surface A's live in tests/support.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.support import auth


def b_url(user_id: str, task_id: str | None = None, suffix: str = "") -> str:
    base = f"/api/v1/{user_id}/tasks"
    return f"{base}/{task_id}{suffix}" if task_id else base


def c_url(task_id: str | None = None, suffix: str = "") -> str:
    return f"/api/tasks/{task_id}{suffix}" if task_id else "/api/tasks"


async def b_make_task(client: httpx.AsyncClient, owner: str, /, **fields: Any) -> dict[str, Any]:
    """Create a task for ``owner`` through surface B and return the task inside the envelope."""
    fields.setdefault("title", "A task")
    response = await client.post(b_url(owner), json=fields, headers=auth(owner))
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()["data"]["task"]
    return task


async def c_make_task(client: httpx.AsyncClient, owner: str, /, **fields: Any) -> dict[str, Any]:
    """Create a task for ``owner`` through surface C and return its JSON."""
    fields.setdefault("title", "A task")
    response = await client.post(c_url(), json=fields, headers=auth(owner))
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()
    return task


def assert_envelope_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is surface B's error envelope with ``status`` and ``code``."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"success", "error", "code", "details"}
    assert (body["success"], body["code"]) == (False, code)
    assert isinstance(body["error"], str)
    assert body["error"]
    details = body["details"]
    assert set(details) - {"errors"} == {"timestamp", "path", "method", "request_id"}
    assert details["request_id"] == response.headers["x-request-id"]
    assert details["method"] == response.request.method
    assert details["path"] == response.request.url.path.rstrip("/")
    stamp = datetime.fromisoformat(details["timestamp"])
    assert details["timestamp"].endswith("Z")
    assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=5)
    return body
