"""Request bodies and the URL of what a request created."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request

from resolvers.domain import Task


async def read_body(request: Request) -> bytes | None:
    """The request body, None when empty (the body limit middleware enforces its size)."""
    return await request.body() or None


def created_location(request: Request, task: Task) -> str:
    """The new task's URL: the collection that was posted to, then its id."""
    return quote(f"{request.scope['path']}/{task.id}")  # scope path: decoded, slash stripped
