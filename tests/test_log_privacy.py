"""Logs never carry user data: no task contents, SQL parameters, tokens or exception messages."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.factory import create_app
from app.settings import Settings
from persistence.database import Database
from persistence.urls import parse_database_url
from resolvers import tasks
from tests.support import ALICE, assert_error, auth, tasks_url

pytestmark = pytest.mark.anyio


async def test_unexpected_error_is_logged_with_its_type_and_frames_not_its_message(
        settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    title = f"private-title-{uuid.uuid4().hex}"

    async def failing(_: object, body: bytes, **_options: object) -> None:
        message = f"could not store {json.loads(body)['title']!r}"  # as a driver quotes data
        raise RuntimeError(message)

    monkeypatch.setattr(tasks, "create_task", failing)
    headers = auth(ALICE)
    app = create_app(settings)  # here, so that its log handler writes to the captured stdout
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://testserver") as client:
            response = await client.post(tasks_url(ALICE), json={"title": title}, headers=headers)
    finally:
        await app.state.services.db.dispose()
    assert_error(response, 500, "INTERNAL_ERROR")
    out = capsys.readouterr().out
    [logged] = [line for line in map(json.loads, out.splitlines())
                if line["message"] == "unexpected error"]
    assert logged["exception"] == "builtins.RuntimeError"
    assert logged["request_id"] == response.headers["x-request-id"]
    assert "in failing" in logged["traceback"]
    assert title not in out
    assert headers["Authorization"].removeprefix("Bearer ") not in out


async def test_a_failed_statement_does_not_quote_its_parameters(database_url: str):
    marker = f"private-{uuid.uuid4().hex}@example.com"
    database = Database.connect(parse_database_url(database_url))
    try:
        with pytest.raises(IntegrityError) as failure:
            async with database.transaction() as connection:
                await connection.execute(
                    text("INSERT INTO users (id, email, name, created_at, updated_at) "
                         "VALUES (:id, :email, NULL, NULL, NULL)"),
                    {"id": marker, "email": marker})
    finally:
        await database.dispose()
    assert marker not in str(failure.value)
