"""One driver for the four doors: every test that runs a scenario on each door goes through here.

A door turns "create / list / get / update / set completed / toggle / delete, as this caller"
into its own HTTP request, checks the answer against that door's contract (status, body shape,
headers), and reduces it to an :class:`Outcome` in the same words for every door: which rule
answered (:class:`Result`), the task or tasks in surface A's spelling, and the raw response for
what only one door promises. Like Strawberry's ``tests/http/clients``: the scenario is written
once, the door is a parameter. A new door is one more entry in :data:`DOORS`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Protocol
from urllib.parse import quote, unquote

import httpx

from tests.graphql_support import TASK_FIELDS, as_rest
from tests.support import assert_error, token

Task = dict[str, Any]
Body = Task | bytes
"""A request body: fields sent as JSON, or raw bytes sent as they are (malformed bodies)."""

FIELDS = ("id", "title", "description", "completed", "completed_at", "status", "priority",
          "due_date", "created_at", "updated_at", "version")
TIMES = ("completed_at", "due_date", "created_at", "updated_at")


@dataclass(frozen=True)
class Caller:
    """Who sends a request: a user id and the bearer token presented (None: no header)."""

    user_id: str
    token: str | None
    email: str | None = None
    name: str | None = None

    @classmethod
    def signed(cls, user_id: str, **claims: Any) -> Caller:
        """``user_id`` with a token from the tests' shared secret, valid for a day."""
        return cls(user_id, token(user_id, ttl=24 * 3600, **claims))

    @property
    def headers(self) -> dict[str, str]:
        return {} if self.token is None else {"Authorization": f"Bearer {self.token}"}

    def with_token(self, new_token: str | None) -> Caller:
        return replace(self, token=new_token)


class Result(enum.Enum):
    """Which rule answered, in the same words for every door."""

    OK = "ok"
    UNAUTHENTICATED = "unauthenticated"
    EXPIRED = "expired"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    STALE = "stale"
    TOO_LARGE = "too_large"


@dataclass(frozen=True)
class Outcome:
    """One answer of a door, normalised; ``response`` keeps what is specific to the door."""

    result: Result
    response: httpx.Response
    code: str | None = None
    message: str | None = None
    task: Task | None = None
    tasks: list[Task] | None = None
    total: int | None = None

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def ids(self) -> list[str]:
        return [task["id"] for task in self.ok_tasks()]

    @property
    def titles(self) -> list[str]:
        return [task["title"] for task in self.ok_tasks()]

    def ok(self) -> Outcome:
        """This outcome, after checking that it is a success."""
        assert self.result is Result.OK, (self.result, self.response.text)
        return self

    def ok_task(self) -> Task:
        """The task of a successful answer."""
        task = self.ok().task
        assert task is not None, self
        return task

    def ok_tasks(self) -> list[Task]:
        """The tasks of a successful listing."""
        tasks = self.ok().tasks
        assert tasks is not None, self
        return tasks


@dataclass(frozen=True)
class ListQuery:
    """A listing every door can express; ``list`` pages through all of it."""

    status: str | None = None
    priority: str | None = None
    sort: str = "created_at"
    descending: bool = True
    page_size: int = 100


EVERYTHING = ListQuery()
MAX_PAGES = 1000
"""More pages than any listing here has: one that never ends is a cursor or offset stuck."""


def canonical(task: Task) -> Task:
    """The fields every door shows, with times compared as instants (not as spellings)."""
    values = {name: task[name] for name in FIELDS}
    for name in TIMES:
        if values[name] is not None:
            values[name] = datetime.fromisoformat(values[name].replace("Z", "+00:00"))
    return values


class Door(Protocol):
    """The task operations on one door.

    ``path_user`` is the user id written into the path (default: the caller's own); doors
    whose paths name no user ignore it. ``version`` is the version the client expects
    (If-Match, or GraphQL's ``expectedVersion`` where the door has it).
    """

    @property
    def name(self) -> str: ...
    @property
    def names_user_in_path(self) -> bool: ...
    @property
    def sets_completion(self) -> bool: ...  # False: the door only toggles
    @property
    def versioned(self) -> frozenset[str]: ...  # the operations that take an expected version
    @property
    def sorts(self) -> tuple[str, ...]: ...
    @property
    def filters_priority(self) -> bool: ...

    async def create(self, http: httpx.AsyncClient, caller: Caller, fields: Body, *,
                     path_user: str | None = None) -> Outcome: ...

    async def list(self, http: httpx.AsyncClient, caller: Caller,
                   query: ListQuery = EVERYTHING, *, path_user: str | None = None) -> Outcome: ...

    async def get(self, http: httpx.AsyncClient, caller: Caller, task_id: str, *,
                  path_user: str | None = None) -> Outcome: ...

    async def update(self, http: httpx.AsyncClient, caller: Caller, task_id: str,
                     changes: Body, *, path_user: str | None = None,
                     version: int | None = None) -> Outcome: ...

    async def set_completed(self, http: httpx.AsyncClient, caller: Caller, task_id: str,
                            completed: bool, *, path_user: str | None = None,
                            version: int | None = None) -> Outcome: ...

    async def toggle(self, http: httpx.AsyncClient, caller: Caller, task_id: str, *,
                     path_user: str | None = None, version: int | None = None) -> Outcome: ...

    async def delete(self, http: httpx.AsyncClient, caller: Caller, task_id: str, *,
                     path_user: str | None = None, version: int | None = None) -> Outcome: ...


async def make(door: Door, http: httpx.AsyncClient, owner: str, /, **fields: Any) -> Task:
    """A new task of ``owner``, created through ``door`` (a title is made up when not given)."""
    fields.setdefault("title", "A task")
    return (await door.create(http, Caller.signed(owner), fields)).ok_task()


async def complete(door: Door, http: httpx.AsyncClient, caller: Caller, task_id: str, *,
                   path_user: str | None = None) -> Outcome:
    """Complete a task that is not completed: set it where the door can, else toggle it."""
    if door.sets_completion:
        return await door.set_completed(http, caller, task_id, True, path_user=path_user)
    return await door.toggle(http, caller, task_id, path_user=path_user)


# ---------------------------------------------------------------- REST


def b_url(user_id: str, task_id: str | None = None, suffix: str = "") -> str:
    base = f"/api/v1/{user_id}/tasks"
    return f"{base}/{task_id}{suffix}" if task_id else base


def c_url(task_id: str | None = None, suffix: str = "") -> str:
    return f"/api/tasks/{task_id}{suffix}" if task_id else "/api/tasks"


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


_REST_ERRORS: dict[tuple[int, str | None], Result] = {
    (401, "UNAUTHENTICATED"): Result.UNAUTHENTICATED,
    (401, "TOKEN_EXPIRED"): Result.EXPIRED,
    (403, "FORBIDDEN"): Result.FORBIDDEN,
    (404, "TASK_NOT_FOUND"): Result.NOT_FOUND,
    (412, "PRECONDITION_FAILED"): Result.STALE,
    (413, "PAYLOAD_TOO_LARGE"): Result.TOO_LARGE,
}
_SUCCESS = {"create": 201, "delete": 204}
_IF_MATCH = frozenset({"update", "set_completed", "toggle", "delete"})


@dataclass(frozen=True)
class Rest:
    """Surfaces A and C: the task itself is the body, errors are ``{detail, code, request_id}``."""

    name: str
    prefix: str  # "{user}" stands for the user id in the path
    validation_status: int
    list_params: tuple[str, ...]
    sorts: tuple[str, ...] = ("created_at", "updated_at", "title", "priority", "status")
    filters_priority: bool = True
    sets_completion: bool = True
    versioned: frozenset[str] = _IF_MATCH

    @property
    def names_user_in_path(self) -> bool:
        return "{user}" in self.prefix

    @property
    def malformed_id(self) -> tuple[int, str]:
        """What a task id that is not a UUID gets: the same as a missing task."""
        return 404, "TASK_NOT_FOUND"

    def url(self, user_id: str, task_id: str | None = None, suffix: str = "") -> str:
        """The door's path for ``user_id`` (percent-encoded), a task of theirs, a sub-path."""
        base = self.prefix.replace("{user}", quote(user_id, safe=""))
        return f"{base}/{task_id}{suffix}" if task_id is not None else base

    # -- what the door's bodies look like

    def assert_error(self, response: httpx.Response, status: int, code: str) -> dict[str, Any]:
        return assert_error(response, status, code)

    def task_of(self, body: Any) -> Task:
        task: Task = body
        return task

    def tasks_of(self, response: httpx.Response) -> list[Task]:
        tasks: list[Task] = response.json()
        return tasks

    # -- the operations

    async def create(self, http: httpx.AsyncClient, caller: Caller, fields: Body, *,
                     path_user: str | None = None) -> Outcome:
        url = self.url(path_user or caller.user_id)
        return await self._send(http, caller, "create", "POST", url, fields)

    async def list(self, http: httpx.AsyncClient, caller: Caller,
                   query: ListQuery = EVERYTHING, *, path_user: str | None = None) -> Outcome:
        params: dict[str, Any] = {"sort": query.sort, "limit": query.page_size,
                                  "order": "desc" if query.descending else "asc"}
        params |= {k: v for k, v in (("status", query.status), ("priority", query.priority)) if v}
        url = self.url(path_user or caller.user_id)
        first = await self._send(http, caller, "list", "GET", url, params={**params, "offset": 0})
        tasks = list(first.tasks or [])
        page = first
        for _ in range(MAX_PAGES):
            if page.tasks is None or len(page.tasks) < query.page_size:
                return replace(first, tasks=tasks) if first.result is Result.OK else first
            page = (await self._send(http, caller, "list", "GET", url,
                                     params={**params, "offset": len(tasks)})).ok()
            tasks += page.tasks or []
        raise AssertionError(f"more than {MAX_PAGES} pages: the offset does not move on")

    async def page(self, http: httpx.AsyncClient, caller: Caller, query: str = "", *,
                   path_user: str | None = None) -> Outcome:
        """One page of the list, with the door's own query string (``?limit=2&…``)."""
        url = self.url(path_user or caller.user_id) + query
        return await self._send(http, caller, "list", "GET", url)

    async def listed(self, http: httpx.AsyncClient, owner: str, query: str = "") -> Outcome:
        """One page of ``owner``'s own list, with the door's query string; it must succeed."""
        return (await self.page(http, Caller.signed(owner), query)).ok()

    async def get(self, http: httpx.AsyncClient, caller: Caller, task_id: str, *,
                  path_user: str | None = None) -> Outcome:
        url = self.url(path_user or caller.user_id, task_id)
        return await self._send(http, caller, "get", "GET", url)

    async def update(self, http: httpx.AsyncClient, caller: Caller, task_id: str,
                     changes: Body, *, path_user: str | None = None,
                     version: int | None = None) -> Outcome:
        url = self.url(path_user or caller.user_id, task_id)
        return await self._send(http, caller, "update", "PUT", url, changes, version=version)

    async def set_completed(self, http: httpx.AsyncClient, caller: Caller, task_id: str,
                            completed: bool, *, path_user: str | None = None,
                            version: int | None = None) -> Outcome:
        url = self.url(path_user or caller.user_id, task_id, "/complete")
        return await self._send(http, caller, "set_completed", "PATCH", url,
                                {"completed": completed}, version=version)

    async def toggle(self, http: httpx.AsyncClient, caller: Caller, task_id: str, *,
                     path_user: str | None = None, version: int | None = None) -> Outcome:
        url = self.url(path_user or caller.user_id, task_id, "/complete")
        return await self._send(http, caller, "toggle", "PATCH", url, version=version)

    async def delete(self, http: httpx.AsyncClient, caller: Caller, task_id: str, *,
                     path_user: str | None = None, version: int | None = None) -> Outcome:
        url = self.url(path_user or caller.user_id, task_id)
        return await self._send(http, caller, "delete", "DELETE", url, version=version)

    # -- sending and reading

    async def _send(self, http: httpx.AsyncClient, caller: Caller, operation: str, method: str,
                    url: str, body: Body | None = None, *, version: int | None = None,
                    params: dict[str, Any] | None = None) -> Outcome:
        headers = dict(caller.headers)
        if version is not None:
            headers["If-Match"] = f'"{version}"'
        content: dict[str, Any] = {}
        if isinstance(body, bytes):
            content = {"content": body}
            headers["Content-Type"] = "application/json"
        elif body is not None:
            content = {"json": body}
        response = await http.request(method, url, headers=headers, params=params, **content)
        if response.status_code == self._success_status(operation):
            return self._success(response, caller, operation)
        return self._failure(response, caller)

    def _success_status(self, operation: str) -> int:
        return _SUCCESS.get(operation, 200)

    def _success(self, response: httpx.Response, caller: Caller, operation: str) -> Outcome:
        if response.status_code == 204:
            assert response.content == b"", response.content
            return Outcome(Result.OK, response)
        body = response.json()
        if operation == "list":
            tasks = self.tasks_of(response)
            _assert_owned(tasks, caller)
            return Outcome(Result.OK, response, tasks=tasks, total=self._total(response))
        task = self.task_of(body)
        _assert_owned([task], caller)
        assert response.headers["etag"] == f'"{task["version"]}"', response.headers
        if operation == "create":
            expected = self.url(caller.user_id, task["id"])
            assert unquote(response.headers["location"]) == unquote(expected)
        return Outcome(Result.OK, response, task=task)

    def _total(self, response: httpx.Response) -> int:
        return int(response.headers["x-total-count"])

    def _failure(self, response: httpx.Response, caller: Caller) -> Outcome:
        body = response.json()
        status, code = response.status_code, body.get("code") if isinstance(body, dict) else None
        result = self._errors().get((status, code))
        assert result is not None, f"{self.name}: unexpected {status} {response.text}"
        error = self.assert_error(response, status, str(code))
        if status == 401:
            challenge = "Bearer" if caller.token is None else 'Bearer error="invalid_token"'
            assert response.headers["www-authenticate"] == challenge
        return Outcome(result, response, code=code, message=self._message(error))

    def _errors(self) -> dict[tuple[int, str | None], Result]:
        return _REST_ERRORS | {(self.validation_status, "VALIDATION_ERROR"): Result.INVALID}

    def _message(self, error: dict[str, Any]) -> str:
        message: str = error["detail"]
        return message


def _assert_owned(tasks: list[Task], caller: Caller) -> None:
    """A REST door shows the caller their own tasks only."""
    assert all(task["user_id"] == caller.user_id for task in tasks), (caller.user_id, tasks)


_B_MESSAGES = {
    "create": "Task created successfully", "list": "Tasks retrieved successfully",
    "get": "Task retrieved successfully", "update": "Task updated successfully",
    "toggle": "Task completion toggled successfully", "delete": "Task deleted successfully",
}


@dataclass(frozen=True)
class Envelopes(Rest):
    """Surface B: ``{"success", "data", "message"}`` envelopes; delete answers 200; only toggles."""

    @property
    def malformed_id(self) -> tuple[int, str]:
        return 422, "VALIDATION_ERROR"

    def assert_error(self, response: httpx.Response, status: int, code: str) -> dict[str, Any]:
        return assert_envelope_error(response, status, code)

    def task_of(self, body: Any) -> Task:
        task: Task = body["data"]["task"]
        return task

    def tasks_of(self, response: httpx.Response) -> list[Task]:
        tasks: list[Task] = response.json()["data"]["tasks"]
        return tasks

    async def set_completed(self, http: httpx.AsyncClient, caller: Caller, task_id: str,
                            completed: bool, *, path_user: str | None = None,
                            version: int | None = None) -> Outcome:
        raise NotImplementedError("surface B only toggles (sets_completion is False)")

    def _success_status(self, operation: str) -> int:
        return 201 if operation == "create" else 200

    def _success(self, response: httpx.Response, caller: Caller, operation: str) -> Outcome:
        body = response.json()
        assert set(body) == {"success", "data", "message"}, body
        assert (body["success"], body["message"]) == (True, _B_MESSAGES[operation]), body
        if operation == "delete":
            assert body["data"] == {}, body
            return Outcome(Result.OK, response)
        return super()._success(response, caller, operation)

    def _total(self, response: httpx.Response) -> int:
        total: int = response.json()["data"]["pagination"]["total"]
        return total

    def _message(self, error: dict[str, Any]) -> str:
        message: str = error["error"]
        return message


# ---------------------------------------------------------------- GraphQL


_GRAPHQL_ERRORS = {  # extensions.code -> (HTTP status, result)
    "NOT_FOUND": (200, Result.NOT_FOUND),
    "VALIDATION_ERROR": (200, Result.INVALID),
    "CONFLICT": (200, Result.STALE),
    "BAD_REQUEST": (400, Result.INVALID),
    "PAYLOAD_TOO_LARGE": (413, Result.TOO_LARGE),
}
_CAMEL = {"due_date": "dueDate"}
_ENUMS = ("status", "priority")
_LIST = ("query($f: TaskFilter, $o: TaskOrder, $n: Int, $a: String) { "
         "tasks(filter: $f, orderBy: $o, first: $n, after: $a) { totalCount "
         f"nodes {{ {TASK_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }} }}")


def _graphql_input(fields: Task) -> Task:
    return {_CAMEL.get(k, k): v.upper() if k in _ENUMS and isinstance(v, str) else v
            for k, v in fields.items()}


@dataclass(frozen=True)
class Answer:
    """One GraphQL response: its failure as an Outcome, or its ``data``."""

    response: httpx.Response
    failure: Outcome | None = None
    data: Any = None


class GraphQL:
    """``/graphql``: the same operations as queries and mutations; a task not yours is null."""

    name = "GraphQL"
    names_user_in_path = False
    sets_completion = True
    versioned: ClassVar[frozenset[str]] = frozenset({"update"})
    sorts = ("created_at", "updated_at", "title", "priority", "status")
    filters_priority = True

    async def create(self, http: httpx.AsyncClient, caller: Caller, fields: Body, *,
                     path_user: str | None = None) -> Outcome:
        query = (f"mutation($input: CreateTaskInput!) {{ createTask(input: $input) "
                 f"{{ {TASK_FIELDS} }} }}")
        variables = fields if isinstance(fields, bytes) else {"input": _graphql_input(fields)}
        return await self._task(http, caller, query, "createTask", variables)

    async def list(self, http: httpx.AsyncClient, caller: Caller,
                   query: ListQuery = EVERYTHING, *, path_user: str | None = None) -> Outcome:
        variables: dict[str, Any] = {
            "f": {k: v.upper() for k, v in (("status", query.status),
                                            ("priority", query.priority)) if v},
            "o": {"field": query.sort.upper(), "direction": "DESC" if query.descending else "ASC"},
            "n": query.page_size, "a": None,
        }
        tasks: list[Task] = []
        for _ in range(MAX_PAGES):
            answer = await self._run(http, caller, _LIST, variables)
            if answer.failure is not None:
                return answer.failure
            connection = answer.data["tasks"]
            tasks += [as_rest(task) for task in connection["nodes"]]
            if not connection["pageInfo"]["hasNextPage"]:
                return Outcome(Result.OK, answer.response, tasks=tasks,
                               total=connection["totalCount"])
            variables["a"] = connection["pageInfo"]["endCursor"]
        raise AssertionError(f"more than {MAX_PAGES} pages: the cursor does not move on")

    async def get(self, http: httpx.AsyncClient, caller: Caller, task_id: str, *,
                  path_user: str | None = None) -> Outcome:
        query = f"query($id: ID!) {{ task(id: $id) {{ {TASK_FIELDS} }} }}"
        return await self._task(http, caller, query, "task", {"id": task_id})

    async def update(self, http: httpx.AsyncClient, caller: Caller, task_id: str,
                     changes: Body, *, path_user: str | None = None,
                     version: int | None = None) -> Outcome:
        query = (f"mutation($id: ID!, $input: UpdateTaskInput!, $v: Int) {{ updateTask(id: $id, "
                 f"input: $input, expectedVersion: $v) {{ {TASK_FIELDS} }} }}")
        variables = changes if isinstance(changes, bytes) else {
            "id": task_id, "input": _graphql_input(changes), "v": version}
        return await self._task(http, caller, query, "updateTask", variables)

    async def set_completed(self, http: httpx.AsyncClient, caller: Caller, task_id: str,
                            completed: bool, *, path_user: str | None = None,
                            version: int | None = None) -> Outcome:
        assert version is None, "setTaskCompleted takes no expected version"
        query = (f"mutation($id: ID!, $c: Boolean!) {{ setTaskCompleted(id: $id, completed: $c) "
                 f"{{ {TASK_FIELDS} }} }}")
        return await self._task(http, caller, query, "setTaskCompleted",
                                {"id": task_id, "c": completed})

    async def toggle(self, http: httpx.AsyncClient, caller: Caller, task_id: str, *,
                     path_user: str | None = None, version: int | None = None) -> Outcome:
        assert version is None, "toggleTaskCompleted takes no expected version"
        query = f"mutation($id: ID!) {{ toggleTaskCompleted(id: $id) {{ {TASK_FIELDS} }} }}"
        return await self._task(http, caller, query, "toggleTaskCompleted", {"id": task_id})

    async def delete(self, http: httpx.AsyncClient, caller: Caller, task_id: str, *,
                     path_user: str | None = None, version: int | None = None) -> Outcome:
        assert version is None, "deleteTask takes no expected version"
        answer = await self._run(http, caller, "mutation($id: ID!) { deleteTask(id: $id) }",
                                 {"id": task_id})
        if answer.failure is not None:
            return answer.failure
        assert answer.data["deleteTask"] == task_id, answer.data
        return Outcome(Result.OK, answer.response)

    # -- sending and reading

    async def _task(self, http: httpx.AsyncClient, caller: Caller, query: str, field: str,
                    variables: dict[str, Any] | bytes) -> Outcome:
        answer = await self._run(http, caller, query, variables)
        if answer.failure is not None:
            return answer.failure
        task = answer.data[field]
        if task is None:
            return Outcome(Result.NOT_FOUND, answer.response)
        return Outcome(Result.OK, answer.response, task=as_rest(task))

    async def _run(self, http: httpx.AsyncClient, caller: Caller, query: str,
                   variables: dict[str, Any] | bytes) -> Answer:
        headers = dict(caller.headers)
        if isinstance(variables, bytes):
            headers["Content-Type"] = "application/json"
            response = await http.post("/graphql", content=variables, headers=headers)
        else:
            response = await http.post("/graphql", json={"query": query, "variables": variables},
                                       headers=headers)
        body = response.json()
        if response.status_code == 401:
            [error] = body["errors"]
            assert error["extensions"]["code"] == "UNAUTHENTICATED", body
            challenge = "Bearer" if caller.token is None else 'Bearer error="invalid_token"'
            assert response.headers["www-authenticate"] == challenge
            expired = error["extensions"].get("reason") == "TOKEN_EXPIRED"
            result = Result.EXPIRED if expired else Result.UNAUTHENTICATED
            return Answer(response, Outcome(result, response, "UNAUTHENTICATED",
                                            error["message"]))
        if body.get("errors"):
            [error] = body["errors"]
            code = error["extensions"]["code"]
            expected = _GRAPHQL_ERRORS.get(code)
            assert expected is not None, f"GraphQL: unexpected {response.status_code} {body}"
            status, result = expected
            assert response.status_code == status, response.text
            assert error["message"], body
            if result is not Result.INVALID:
                assert error["extensions"] == {"code": code}, body
            return Answer(response, Outcome(result, response, code, error["message"]))
        assert response.status_code == 200, response.text
        return Answer(response, data=body["data"])


# ---------------------------------------------------------------- the doors

_A_AND_C_PARAMS = ("status", "completed", "priority", "q", "search", "due_after", "due_before",
                   "due_date_from", "due_date_to", "sort", "order", "limit", "offset", "page")

SURFACE_A = Rest("A", "/api/{user}/tasks", 400, _A_AND_C_PARAMS)
SURFACE_B = Envelopes("B", "/api/v1/{user}/tasks", 422, ("status", "sort", "order", "limit",
                                                        "offset"),
                      sorts=("created_at", "updated_at", "priority"), filters_priority=False,
                      sets_completion=False, versioned=_IF_MATCH - {"set_completed"})
SURFACE_C = Rest("C", "/api/tasks", 422, _A_AND_C_PARAMS)
GRAPHQL = GraphQL()

REST_DOORS: tuple[Rest, ...] = (SURFACE_A, SURFACE_B, SURFACE_C)
DOORS: tuple[Door, ...] = (SURFACE_A, SURFACE_B, SURFACE_C, GRAPHQL)
PATH_DOORS: tuple[Rest, ...] = tuple(door for door in REST_DOORS if door.names_user_in_path)


def door_id(door: Door) -> str:
    return door.name

