"""One core behind every door: tasks written through any surface read back the same through all.

Each door is a small adapter with the same calls; the GraphQL door maps its fields (camelCase,
enum names) onto the REST names below.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import httpx
import pytest

from tests.graphql_support import TASK_FIELDS, as_rest, data
from tests.support import ALICE, BOB, CAROL, auth, tasks_url
from tests.surfaces import b_url, c_url

pytestmark = pytest.mark.anyio

FIELDS = ("id", "title", "description", "completed", "completed_at", "status", "priority",
          "due_date", "created_at", "updated_at", "version")
TIMES = ("completed_at", "due_date", "created_at", "updated_at")
Task = dict[str, Any]


def canonical(task: Task) -> Task:
    """The fields every door shows, with times compared as instants (not as spellings)."""
    values = {name: task[name] for name in FIELDS}
    for name in TIMES:
        if values[name] is not None:
            values[name] = datetime.fromisoformat(values[name].replace("Z", "+00:00"))
    return values


class Door(Protocol):
    @property
    def name(self) -> str: ...

    async def create(self, client: httpx.AsyncClient, user: str, fields: Task) -> Task: ...
    async def read(self, client: httpx.AsyncClient, user: str, task_id: str) -> Task | None: ...
    async def list(self, client: httpx.AsyncClient, user: str) -> list[Task]: ...
    async def toggle(self, client: httpx.AsyncClient, user: str, task_id: str) -> Task: ...
    async def delete(self, client: httpx.AsyncClient, user: str, task_id: str) -> None: ...


@dataclass(frozen=True)
class PlainRest:
    """Surfaces A and C: the task itself is the body."""

    name: str
    url: Callable[[str, str | None, str], str]  # (user, task id, suffix) -> path

    def unwrap(self, body: Any) -> Any:
        return body

    async def _send(self, client: httpx.AsyncClient, method: str, url: str, user: str,
                    expected: int, **kwargs: Any) -> Any:
        response = await client.request(method, url, headers=auth(user), **kwargs)
        assert response.status_code == expected, (self.name, method, url, response.text)
        return self.unwrap(response.json()) if response.content else None

    async def create(self, client: httpx.AsyncClient, user: str, fields: Task) -> Task:
        return await self._send(client, "POST", self.url(user, None, ""), user, 201, json=fields)

    async def read(self, client: httpx.AsyncClient, user: str, task_id: str) -> Task | None:
        response = await client.get(self.url(user, task_id, ""), headers=auth(user))
        if response.status_code == 404:
            return None
        assert response.status_code == 200, (self.name, response.text)
        return self.unwrap(response.json())

    async def list(self, client: httpx.AsyncClient, user: str) -> list[Task]:
        return await self._send(client, "GET", self.url(user, None, ""), user, 200)

    async def toggle(self, client: httpx.AsyncClient, user: str, task_id: str) -> Task:
        return await self._send(client, "PATCH", self.url(user, task_id, "/complete"), user, 200)

    async def delete(self, client: httpx.AsyncClient, user: str, task_id: str) -> None:
        await self._send(client, "DELETE", self.url(user, task_id, ""), user, 204)


class Envelopes(PlainRest):
    """Surface B, seed 004's envelopes: ``data.task`` / ``data.tasks``; delete answers 200."""

    def unwrap(self, body: Any) -> Any:
        assert body["success"] is True
        data = body["data"]
        return data.get("task", data.get("tasks", data))

    async def delete(self, client: httpx.AsyncClient, user: str, task_id: str) -> None:
        assert await self._send(client, "DELETE", self.url(user, task_id, ""), user, 200) == {}


class GraphQL:
    """The /graphql door: the same operations as mutations and queries."""

    name = "GraphQL"

    async def create(self, client: httpx.AsyncClient, user: str, fields: Task) -> Task:
        task_input = {_CAMEL.get(k, k): v.upper() if k in ("status", "priority") else v
                      for k, v in fields.items()}
        result = await data(client, user, f"""mutation($input: CreateTaskInput!) {{
            createTask(input: $input) {{ {TASK_FIELDS} }} }}""", input=task_input)
        return as_rest(result["createTask"])

    async def read(self, client: httpx.AsyncClient, user: str, task_id: str) -> Task | None:
        query = f"query($id: ID!) {{ task(id: $id) {{ {TASK_FIELDS} }} }}"
        result = await data(client, user, query, id=task_id)
        return as_rest(result["task"]) if result["task"] else None

    async def list(self, client: httpx.AsyncClient, user: str) -> list[Task]:
        query = f"{{ tasks(first: 100) {{ nodes {{ {TASK_FIELDS} }} }} }}"
        result = await data(client, user, query)
        return [as_rest(t) for t in result["tasks"]["nodes"]]

    async def toggle(self, client: httpx.AsyncClient, user: str, task_id: str) -> Task:
        result = await data(client, user, f"""mutation($id: ID!) {{
            toggleTaskCompleted(id: $id) {{ {TASK_FIELDS} }} }}""", id=task_id)
        return as_rest(result["toggleTaskCompleted"])

    async def delete(self, client: httpx.AsyncClient, user: str, task_id: str) -> None:
        result = await data(client, user, "mutation($id: ID!) { deleteTask(id: $id) }", id=task_id)
        assert result["deleteTask"] == task_id


_CAMEL = {"due_date": "dueDate"}
DOORS: list[Door] = [
    PlainRest("A", tasks_url),
    Envelopes("B", b_url),
    PlainRest("C", lambda _user, task_id, suffix: c_url(task_id, suffix)),
    GraphQL(),
]


def _fields(door: Door) -> Task:
    return {"title": f"Written through {door.name}", "description": f"desc {door.name} ✓",
            "priority": "high", "status": "in_progress", "due_date": "2030-05-06T07:08:09+02:00"}


async def _everything_through(door: Door, client: httpx.AsyncClient, user: str) -> list[Task]:
    return sorted((canonical(t) for t in await door.list(client, user)), key=lambda t: t["id"])


async def test_tasks_written_through_each_door_read_identically_through_every_door(client):
    created = [canonical(await door.create(client, ALICE, _fields(door))) for door in DOORS]
    for writer, task in zip(DOORS, created, strict=True):
        assert task["title"] == f"Written through {writer.name}"
        assert task["due_date"] == datetime.fromisoformat("2030-05-06T05:08:09+00:00")
        for reader in DOORS:
            read = await reader.read(client, ALICE, str(task["id"]))
            assert read is not None, (writer.name, reader.name)
            assert canonical(read) == task, (writer.name, reader.name)
    expected = sorted(created, key=lambda t: t["id"])
    for reader in DOORS:
        assert await _everything_through(reader, client, ALICE) == expected, reader.name


async def test_changes_through_one_door_are_seen_through_every_other(client: httpx.AsyncClient):
    task = await DOORS[0].create(client, ALICE, {"title": "shared"})
    versions = [task["version"]]
    for door in DOORS:
        toggled = canonical(await door.toggle(client, ALICE, task["id"]))
        versions.append(toggled["version"])
        for reader in DOORS:
            read = await reader.read(client, ALICE, task["id"])
            assert read is not None
            assert canonical(read) == toggled, (door.name, reader.name)
    assert versions == list(range(1, len(DOORS) + 2))


@pytest.mark.parametrize("deleter", DOORS, ids=lambda door: door.name)
async def test_a_task_deleted_through_any_door_is_gone_from_all(client, deleter: Door):
    task = await DOORS[-1].create(client, ALICE, {"title": "doomed"})
    await deleter.delete(client, ALICE, task["id"])
    for reader in DOORS:
        assert await reader.read(client, ALICE, task["id"]) is None, reader.name
        assert await reader.list(client, ALICE) == [], reader.name


async def test_no_door_shows_one_users_tasks_to_another(client: httpx.AsyncClient):
    owned = {user: [(await door.create(client, user, {"title": f"{user} via {door.name}"}))["id"]
                    for door in DOORS] for user in (ALICE, BOB, CAROL)}
    for user, ids in owned.items():
        for reader in DOORS:
            assert {t["id"] for t in await reader.list(client, user)} == set(ids), reader.name
            for other, other_ids in owned.items():
                if other != user:
                    assert await reader.read(client, user, other_ids[0]) is None
    assert await DOORS[0].read(client, ALICE, str(uuid.uuid4())) is None
