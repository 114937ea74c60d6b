"""GraphQL test helpers: POST an operation, count SQL statements and calls, spell tasks as REST."""

from __future__ import annotations

import gc
import os
import re
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event

from app.factory import create_app
from app.settings import Settings
from tests.support import auth

Served = tuple[FastAPI, httpx.AsyncClient]
TASK_FIELDS = ("id title description completed completedAt status priority dueDate createdAt "
               "updatedAt version")


async def gql(client: httpx.AsyncClient, user: str | None, query: str, /,
              **variables: Any) -> httpx.Response:
    """POST ``query`` to /graphql as ``user`` (no Authorization header when None)."""
    headers = auth(user) if user is not None else {}
    return await client.post("/graphql", json={"query": query, "variables": variables},
                             headers=headers)


async def data(client: httpx.AsyncClient, user: str, query: str, /, **variables: Any
               ) -> dict[str, Any]:
    """The ``data`` of a successful operation (fails the test on any error)."""
    response = await gql(client, user, query, **variables)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


async def error(client: httpx.AsyncClient, user: str, query: str, /, **variables: Any
                ) -> dict[str, Any]:
    """The only error of a failed operation (answered with HTTP 200, as GraphQL does)."""
    response = await gql(client, user, query, **variables)
    assert response.status_code == 200, response.text
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    only: dict[str, Any] = errors[0]
    return only


def as_rest(task: dict[str, Any]) -> dict[str, Any]:
    """A GraphQL task spelled as surface A writes it (snake_case keys, lower-case enums)."""
    def snake(name: str) -> str:
        return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()

    return {snake(k): v.lower() if k in ("status", "priority") else v for k, v in task.items()}


@contextmanager
def count_statements(app: FastAPI) -> Iterator[list[str]]:
    """Every SQL statement the app's engine sends while the block runs."""
    statements: list[str] = []
    engine = app.state.services.db.engine.sync_engine

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@asynccontextmanager
async def serving(settings: Settings, **changes: object) -> AsyncIterator[Served]:
    """An app built from ``settings`` with ``changes``, and an HTTP client of it."""
    app = create_app(settings.model_copy(update=changes))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app, client
    finally:
        await app.state.services.db.dispose()


DOCUMENT_CODE = (f"{os.sep}graphql{os.sep}", f"{os.sep}strawberry{os.sep}",
                 f"{os.sep}schema{os.sep}")
"""Where the work on a GraphQL document happens: graphql-core, Strawberry, our schema package."""


@contextmanager
def count_calls(where: tuple[str, ...] = DOCUMENT_CODE) -> Iterator[list[int]]:
    """How many Python functions (interpreted or built in) code under ``where`` calls in the block.

    The work a request does on its document, counted instead of timed: it does not depend on
    the machine, nor on what else the event loop runs meanwhile (timers, other requests). The
    garbage collector waits meanwhile, so that finalizers of earlier objects don't count.
    """
    calls = [0]

    def profile(frame: Any, event: str, _arg: Any) -> None:
        if event in ("call", "c_call") and any(w in frame.f_code.co_filename for w in where):
            calls[0] += 1

    previous, collecting = sys.getprofile(), gc.isenabled()
    gc.disable()
    sys.setprofile(profile)
    try:
        yield calls
    finally:
        sys.setprofile(previous)
        if collecting:
            gc.enable()
