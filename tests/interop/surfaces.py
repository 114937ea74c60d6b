"""One driver per front door, so every interop test runs the same operations on each surface.

A driver turns "create / list / get / update / complete / delete as this caller" into the
surface's own HTTP request and checks the answer against that surface's contract, reducing it to
a :class:`Reply` the tests compare across surfaces. Register a new surface by appending its driver
to :data:`SURFACES`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Protocol

import httpx


@dataclass(frozen=True)
class Caller:
    """A signed-in user: Better Auth's user id and a bearer token for it."""

    user_id: str
    token: str
    email: str | None = None
    name: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def with_token(self, token: str) -> Caller:
        return Caller(self.user_id, token, self.email, self.name)


class Result(enum.Enum):
    """What an operation came to, in the same words for every surface."""

    OK = "ok"
    UNAUTHENTICATED = "unauthenticated"
    EXPIRED = "expired"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Reply:
    """An operation's result; ``task`` (id, title, completed) or ``task_ids`` on success."""

    result: Result
    task: dict[str, Any] | None = None
    task_ids: list[str] | None = None


class Surface(Protocol):
    """The six task operations on one surface.

    ``path_user`` is the user id written into the path (default: the caller's own); surfaces
    whose paths name no user (``names_user_in_path = False``) ignore it. ``complete`` is only
    called on a task that is not completed and must leave it completed.
    """

    name: str
    names_user_in_path: bool

    async def create(self, http: httpx.AsyncClient, caller: Caller, title: str, *,
                     path_user: str | None = None) -> Reply: ...

    async def list(self, http: httpx.AsyncClient, caller: Caller, *,
                   path_user: str | None = None) -> Reply: ...

    async def get(self, http: httpx.AsyncClient, caller: Caller, task_id: str, *,
                  path_user: str | None = None) -> Reply: ...

    async def update(self, http: httpx.AsyncClient, caller: Caller, task_id: str, title: str, *,
                     path_user: str | None = None) -> Reply: ...

    async def complete(self, http: httpx.AsyncClient, caller: Caller, task_id: str, *,
                       path_user: str | None = None) -> Reply: ...

    async def delete(self, http: httpx.AsyncClient, caller: Caller, task_id: str, *,
                     path_user: str | None = None) -> Reply: ...


# Contract section 5: the error codes of surfaces A and C.
REST_ERRORS = {
    (401, "UNAUTHENTICATED"): Result.UNAUTHENTICATED,
    (401, "TOKEN_EXPIRED"): Result.EXPIRED,
    (403, "FORBIDDEN"): Result.FORBIDDEN,
    (404, "TASK_NOT_FOUND"): Result.NOT_FOUND,
}


def rest_task(body: dict[str, Any]) -> dict[str, Any]:
    """The fields every surface reports, from a REST task object."""
    return {"id": body["id"], "title": body["title"], "completed": body["completed"]}


def rest_reply(response: httpx.Response, success: int, owner: str | None = None) -> Reply:
    """A surface A/C answer: the expected success, or one of the contract's error bodies."""
    where = f"{response.request.method} {response.request.url.path}"
    if response.status_code == success:
        if success == 204:
            assert response.content == b"", where
            return Reply(Result.OK)
        body = response.json()
        if isinstance(body, list):
            assert all(task["user_id"] == owner for task in body), (where, body)
            return Reply(Result.OK, task_ids=[task["id"] for task in body])
        assert body["user_id"] == owner, (where, body)
        assert response.headers["etag"] == f'"{body["version"]}"', where
        return Reply(Result.OK, task=rest_task(body))
    body = response.json()
    result = REST_ERRORS.get((response.status_code, body.get("code")))
    assert result is not None, f"{where}: unexpected {response.status_code} {response.text}"
    assert body["request_id"] == response.headers["x-request-id"], where
    if response.status_code == 401:
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"', where
    return Reply(result)


class SurfaceA:
    """Contract section 4: ``/api/{user_id}/tasks``."""

    name = "A"
    names_user_in_path = True

    @staticmethod
    def _url(caller: Caller, path_user: str | None, task_id: str | None = None) -> str:
        base = f"/api/{path_user or caller.user_id}/tasks"
        return f"{base}/{task_id}" if task_id else base

    async def create(self, http: httpx.AsyncClient, caller: Caller, title: str, *,
                     path_user: str | None = None) -> Reply:
        response = await http.post(self._url(caller, path_user), json={"title": title},
                                   headers=caller.headers)
        reply = rest_reply(response, 201, caller.user_id)
        if reply.task:
            assert response.headers["location"] == self._url(caller, None, reply.task["id"])
        return reply

    async def list(self, http: httpx.AsyncClient, caller: Caller, *,
                   path_user: str | None = None) -> Reply:
        response = await http.get(self._url(caller, path_user), headers=caller.headers)
        return rest_reply(response, 200, caller.user_id)

    async def get(self, http: httpx.AsyncClient, caller: Caller, task_id: str, *,
                  path_user: str | None = None) -> Reply:
        response = await http.get(self._url(caller, path_user, task_id), headers=caller.headers)
        return rest_reply(response, 200, caller.user_id)

    async def update(self, http: httpx.AsyncClient, caller: Caller, task_id: str, title: str, *,
                     path_user: str | None = None) -> Reply:
        response = await http.put(self._url(caller, path_user, task_id), json={"title": title},
                                  headers=caller.headers)
        return rest_reply(response, 200, caller.user_id)

    async def complete(self, http: httpx.AsyncClient, caller: Caller, task_id: str, *,
                       path_user: str | None = None) -> Reply:
        url = self._url(caller, path_user, task_id) + "/complete"
        response = await http.patch(url, json={"completed": True}, headers=caller.headers)
        return rest_reply(response, 200, caller.user_id)

    async def delete(self, http: httpx.AsyncClient, caller: Caller, task_id: str, *,
                     path_user: str | None = None) -> Reply:
        response = await http.delete(self._url(caller, path_user, task_id),
                                     headers=caller.headers)
        return rest_reply(response, 204, caller.user_id)




class SurfaceC(SurfaceA):
    """Contract section 7: ``/api/tasks``, the user taken from the token."""

    name = "C"
    names_user_in_path = False

    @staticmethod
    def _url(caller: Caller, path_user: str | None, task_id: str | None = None) -> str:
        return f"/api/tasks/{task_id}" if task_id else "/api/tasks"


def envelope_reply(response: httpx.Response, success: int, owner: str) -> Reply:
    """A surface B answer: ``{"success": true, "data": …}`` or its error envelope."""
    where = f"{response.request.method} {response.request.url.path}"
    body = response.json()
    if response.status_code == success:
        assert body["success"] is True, where
        data = body["data"]
        if "tasks" in data:
            assert all(task["user_id"] == owner for task in data["tasks"]), where
            return Reply(Result.OK, task_ids=[task["id"] for task in data["tasks"]])
        if "task" in data:
            assert data["task"]["user_id"] == owner, where
            return Reply(Result.OK, task=rest_task(data["task"]))
        assert data == {}, where
        return Reply(Result.OK)
    assert body["success"] is False, where
    result = REST_ERRORS.get((response.status_code, body.get("code")))
    assert result is not None, f"{where}: unexpected {response.status_code} {response.text}"
    assert body["details"]["request_id"] == response.headers["x-request-id"], where
    return Reply(result)


class SurfaceB:
    """Contract section 6: ``/api/v1/{user_id}/tasks`` with seed 004's envelopes."""

    name = "B"
    names_user_in_path = True

    @staticmethod
    def _url(caller: Caller, path_user: str | None, task_id: str | None = None) -> str:
        base = f"/api/v1/{path_user or caller.user_id}/tasks"
        return f"{base}/{task_id}" if task_id else base

    async def create(self, http: httpx.AsyncClient, caller: Caller, title: str, *,
                     path_user: str | None = None) -> Reply:
        response = await http.post(self._url(caller, path_user), json={"title": title},
                                   headers=caller.headers)
        return envelope_reply(response, 201, caller.user_id)

    async def list(self, http: httpx.AsyncClient, caller: Caller, *,
                   path_user: str | None = None) -> Reply:
        response = await http.get(self._url(caller, path_user), headers=caller.headers)
        return envelope_reply(response, 200, caller.user_id)

    async def get(self, http: httpx.AsyncClient, caller: Caller, task_id: str, *,
                  path_user: str | None = None) -> Reply:
        response = await http.get(self._url(caller, path_user, task_id), headers=caller.headers)
        return envelope_reply(response, 200, caller.user_id)

    async def update(self, http: httpx.AsyncClient, caller: Caller, task_id: str, title: str, *,
                     path_user: str | None = None) -> Reply:
        response = await http.put(self._url(caller, path_user, task_id), json={"title": title},
                                  headers=caller.headers)
        return envelope_reply(response, 200, caller.user_id)

    async def complete(self, http: httpx.AsyncClient, caller: Caller, task_id: str, *,
                       path_user: str | None = None) -> Reply:
        url = self._url(caller, path_user, task_id) + "/complete"
        response = await http.patch(url, headers=caller.headers)  # B always toggles
        return envelope_reply(response, 200, caller.user_id)

    async def delete(self, http: httpx.AsyncClient, caller: Caller, task_id: str, *,
                     path_user: str | None = None) -> Reply:
        response = await http.delete(self._url(caller, path_user, task_id),
                                     headers=caller.headers)
        return envelope_reply(response, 200, caller.user_id)


_TASK = "id title completed"


class SurfaceGraphQL:
    """Contract section 8: ``/graphql``; the user is the token's, a foreign task reads as null."""

    name = "GraphQL"
    names_user_in_path = False

    async def _run(self, http: httpx.AsyncClient, caller: Caller, query: str,
                   **variables: Any) -> tuple[Reply | None, Any]:
        response = await http.post("/graphql", json={"query": query, "variables": variables},
                                   headers=caller.headers)
        body = response.json()
        if response.status_code == 401:
            extensions = body["errors"][0]["extensions"]
            assert extensions["code"] == "UNAUTHENTICATED", body
            expired = extensions.get("reason") == "TOKEN_EXPIRED"
            return Reply(Result.EXPIRED if expired else Result.UNAUTHENTICATED), None
        assert response.status_code == 200, response.text
        if body.get("errors"):
            assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"], body
            return Reply(Result.NOT_FOUND), None
        return None, body["data"]

    async def _task(self, http: httpx.AsyncClient, caller: Caller, query: str, field: str,
                    **variables: Any) -> Reply:
        failed, data = await self._run(http, caller, query, **variables)
        if failed:
            return failed
        task = data[field]
        return Reply(Result.NOT_FOUND) if task is None else Reply(Result.OK, task=task)

    async def create(self, http: httpx.AsyncClient, caller: Caller, title: str, *,
                     path_user: str | None = None) -> Reply:
        query = f"mutation($t: String!) {{ createTask(input: {{title: $t}}) {{ {_TASK} }} }}"
        return await self._task(http, caller, query, "createTask", t=title)

    async def list(self, http: httpx.AsyncClient, caller: Caller, *,
                   path_user: str | None = None) -> Reply:
        failed, data = await self._run(http, caller, "{ tasks(first: 100) { nodes { id } } }")
        return failed or Reply(Result.OK, task_ids=[t["id"] for t in data["tasks"]["nodes"]])

    async def get(self, http: httpx.AsyncClient, caller: Caller, task_id: str, *,
                  path_user: str | None = None) -> Reply:
        query = f"query($id: ID!) {{ task(id: $id) {{ {_TASK} }} }}"
        return await self._task(http, caller, query, "task", id=task_id)

    async def update(self, http: httpx.AsyncClient, caller: Caller, task_id: str, title: str, *,
                     path_user: str | None = None) -> Reply:
        query = (f"mutation($id: ID!, $t: String!) {{ updateTask(id: $id, input: {{title: $t}})"
                 f" {{ {_TASK} }} }}")
        return await self._task(http, caller, query, "updateTask", id=task_id, t=title)

    async def complete(self, http: httpx.AsyncClient, caller: Caller, task_id: str, *,
                       path_user: str | None = None) -> Reply:
        query = f"mutation($id: ID!) {{ setTaskCompleted(id: $id) {{ {_TASK} }} }}"
        return await self._task(http, caller, query, "setTaskCompleted", id=task_id)

    async def delete(self, http: httpx.AsyncClient, caller: Caller, task_id: str, *,
                     path_user: str | None = None) -> Reply:
        failed, _ = await self._run(http, caller, "mutation($id: ID!) { deleteTask(id: $id) }",
                                    id=task_id)
        return failed or Reply(Result.OK)


#: Every surface the interop suite drives; each test runs once per entry.
SURFACES: tuple[Surface, ...] = (SurfaceA(), SurfaceB(), SurfaceC(), SurfaceGraphQL())
