"""Model-based isolation: random users act through random doors; the service must match a model.

Three users create, read, list (random filters, sorts and pages), update, complete, toggle and
delete tasks through surfaces A, B, C and GraphQL, chosen at random at every step, also aiming at
each other's tasks. After every step each user's tasks, read through surface A, must equal the
in-memory model: the same ids (never a foreign one), the same fields, the status/completed/
completed_at invariant, and a version that moved exactly once per change.

CI runs a modest number of examples (profile ``ci``); thousands run with
``uv run pytest --hypothesis-profile=deep tests/test_model_isolation.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import pytest
from fastapi import FastAPI
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from starlette.testclient import TestClient

from tests.support import auth

STATUSES = ("pending", "in_progress", "completed")
PRIORITIES = ("low", "medium", "high")
TITLES = st.text(alphabet="abc", min_size=1, max_size=3)  # few values: many ties in sorting
Task = dict[str, Any]
NEVER_CREATED = str(uuid.UUID(int=1))


# ---------------------------------------------------------------- the model


@dataclass
class ModelTask:
    id: str
    title: str
    priority: str
    status: str
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @property
    def completed(self) -> bool:
        return self.status == "completed"

    def change(self, seen: Task, **values: Any) -> None:
        """Apply ``values``; a real change moves the version by one and takes the server's time."""
        values = {k: v for k, v in values.items() if getattr(self, k) != v}
        if "status" in values:
            becomes_done = values["status"] == "completed"
            values["completed_at"] = (self.completed_at or seen["completed_at"]) if becomes_done \
                else None
        if values:
            for name, value in values.items():
                setattr(self, name, value)
            self.version += 1
            self.updated_at = seen["updated_at"]

    def reopened_status(self, completed: bool) -> str:
        if completed:
            return "completed"
        return "pending" if self.status == "completed" else self.status


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


# ---------------------------------------------------------------- the doors


@dataclass(frozen=True)
class ListQuery:
    status: str | None
    priority: str | None
    sort: str
    descending: bool
    page_size: int


class Door(Protocol):
    name: str
    sorts: tuple[str, ...]
    filters_priority: bool
    sets_completion: bool

    def create(self, http: TestClient, user: str, title: str, priority: str, status: str
               ) -> Task: ...
    def get(self, http: TestClient, user: str, task_id: str) -> Task | None: ...
    def update(self, http: TestClient, user: str, task_id: str, changes: dict[str, str]
               ) -> Task | None: ...
    def complete(self, http: TestClient, user: str, task_id: str, completed: bool | None
                 ) -> Task | None: ...
    def delete(self, http: TestClient, user: str, task_id: str) -> bool: ...
    def list(self, http: TestClient, user: str, query: ListQuery) -> list[Task]: ...


def _rest_task(body: Task) -> Task:
    return {"id": body["id"], "user_id": body["user_id"], "title": body["title"],
            "priority": body["priority"], "status": body["status"],
            "completed": body["completed"], "completed_at": _time(body["completed_at"]),
            "created_at": _time(body["created_at"]), "updated_at": _time(body["updated_at"]),
            "version": body["version"]}


@dataclass(frozen=True)
class Rest:
    """Surfaces A and C (plain bodies, 404 for missing tasks) and B (envelopes)."""

    name: str
    prefix: str  # "{user}" is replaced by the caller's id
    envelope: bool = False
    sorts: tuple[str, ...] = ("created_at", "updated_at", "title", "priority", "status")
    filters_priority: bool = True
    sets_completion: bool = True
    not_found: int = 404

    def url(self, user: str, task_id: str | None = None, suffix: str = "") -> str:
        base = self.prefix.replace("{user}", user)
        return f"{base}/{task_id}{suffix}" if task_id else base

    def _body(self, response: Any, status: int) -> Any:
        assert response.status_code == status, (self.name, response.request.url, response.text)
        if not self.envelope or status == 204:
            return response.json() if response.content else None
        body = response.json()
        assert body["success"] is True
        return body["data"]

    def _task(self, response: Any, status: int) -> Task | None:
        if response.status_code == self.not_found:
            body = response.json()
            assert body["code"] == "TASK_NOT_FOUND", body
            return None
        data = self._body(response, status)
        return _rest_task(data["task"] if self.envelope else data)

    def create(self, http: TestClient, user: str, title: str, priority: str, status: str
               ) -> Task:
        response = http.post(self.url(user), headers=auth(user),
                             json={"title": title, "priority": priority, "status": status})
        task = self._task(response, 201)
        assert task is not None
        return task

    def get(self, http: TestClient, user: str, task_id: str) -> Task | None:
        return self._task(http.get(self.url(user, task_id), headers=auth(user)), 200)

    def update(self, http: TestClient, user: str, task_id: str, changes: dict[str, str]
               ) -> Task | None:
        response = http.put(self.url(user, task_id), json=changes, headers=auth(user))
        return self._task(response, 200)

    def complete(self, http: TestClient, user: str, task_id: str, completed: bool | None
                 ) -> Task | None:
        body = {} if completed is None else {"json": {"completed": completed}}
        response = http.patch(self.url(user, task_id, "/complete"), headers=auth(user), **body)
        return self._task(response, 200)

    def delete(self, http: TestClient, user: str, task_id: str) -> bool:
        response = http.delete(self.url(user, task_id), headers=auth(user))
        if response.status_code == self.not_found:
            return False
        self._body(response, 200 if self.envelope else 204)
        return True

    def list(self, http: TestClient, user: str, query: ListQuery) -> list[Task]:
        params: dict[str, Any] = {"sort": query.sort, "order": "desc" if query.descending
                                  else "asc", "limit": query.page_size}
        if query.status:
            params["status"] = query.status
        if query.priority:
            params["priority"] = query.priority
        tasks: list[Task] = []
        while True:
            response = http.get(self.url(user), params={**params, "offset": len(tasks)},
                                headers=auth(user))
            data = self._body(response, 200)
            page = data["tasks"] if self.envelope else data
            tasks += [_rest_task(t) for t in page]
            if len(page) < query.page_size:
                return tasks


_GQL_TASK = "id title priority status completed completedAt createdAt updatedAt version"


class GraphQL:
    name = "GraphQL"
    sorts = ("created_at", "updated_at", "title", "priority", "status")
    filters_priority = True
    sets_completion = True

    @staticmethod
    def _run(http: TestClient, user: str, query: str, **variables: Any) -> Any:
        response = http.post("/graphql", json={"query": query, "variables": variables},
                             headers=auth(user))
        assert response.status_code == 200, response.text
        body = response.json()
        if body.get("errors"):
            assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"], body
            return None
        return body["data"]

    @staticmethod
    def _task(task: Task | None, user: str) -> Task | None:
        if task is None:
            return None
        return {"id": task["id"], "user_id": user, "title": task["title"],
                "priority": task["priority"].lower(), "status": task["status"].lower(),
                "completed": task["completed"], "completed_at": _time(task["completedAt"]),
                "created_at": _time(task["createdAt"]), "updated_at": _time(task["updatedAt"]),
                "version": task["version"]}

    def _mutation(self, http: TestClient, user: str, query: str, name: str, **variables: Any
                  ) -> Task | None:
        data = self._run(http, user, query, **variables)
        return None if data is None else self._task(data[name], user)

    def create(self, http: TestClient, user: str, title: str, priority: str, status: str
               ) -> Task:
        query = f"mutation($i: CreateTaskInput!) {{ createTask(input: $i) {{ {_GQL_TASK} }} }}"
        values = {"title": title, "priority": priority.upper(), "status": status.upper()}
        task = self._mutation(http, user, query, "createTask", i=values)
        assert task is not None
        return task

    def get(self, http: TestClient, user: str, task_id: str) -> Task | None:
        data = self._run(http, user, f"query($id: ID!) {{ task(id: $id) {{ {_GQL_TASK} }} }}",
                         id=task_id)
        return self._task(data["task"], user)

    def update(self, http: TestClient, user: str, task_id: str, changes: dict[str, str]
               ) -> Task | None:
        values = {k: v.upper() if k in ("status", "priority") else v for k, v in changes.items()}
        query = (f"mutation($id: ID!, $i: UpdateTaskInput!) {{ updateTask(id: $id, input: $i) "
                 f"{{ {_GQL_TASK} }} }}")
        return self._mutation(http, user, query, "updateTask", id=task_id, i=values)

    def complete(self, http: TestClient, user: str, task_id: str, completed: bool | None
                 ) -> Task | None:
        if completed is None:
            query = f"mutation($id: ID!) {{ toggleTaskCompleted(id: $id) {{ {_GQL_TASK} }} }}"
            return self._mutation(http, user, query, "toggleTaskCompleted", id=task_id)
        query = (f"mutation($id: ID!, $c: Boolean!) {{ setTaskCompleted(id: $id, completed: $c) "
                 f"{{ {_GQL_TASK} }} }}")
        return self._mutation(http, user, query, "setTaskCompleted", id=task_id, c=completed)

    def delete(self, http: TestClient, user: str, task_id: str) -> bool:
        data = self._run(http, user, "mutation($id: ID!) { deleteTask(id: $id) }", id=task_id)
        return data is not None

    def list(self, http: TestClient, user: str, query: ListQuery) -> list[Task]:
        flt = {k: v.upper() for k, v in (("status", query.status), ("priority", query.priority))
               if v}
        order = {"field": query.sort.upper(), "direction": "DESC" if query.descending else "ASC"}
        document = (f"query($f: TaskFilter, $o: TaskOrder, $n: Int, $a: String) {{ "
                    f"tasks(filter: $f, orderBy: $o, first: $n, after: $a) {{ "
                    f"nodes {{ {_GQL_TASK} }} pageInfo {{ hasNextPage endCursor }} }} }}")
        tasks: list[Task] = []
        after = None
        while True:
            data = self._run(http, user, document, f=flt, o=order, n=query.page_size, a=after)
            connection = data["tasks"]
            tasks += [self._task(t, user) for t in connection["nodes"]]  # type: ignore[misc]
            if not connection["pageInfo"]["hasNextPage"]:
                return tasks
            after = connection["pageInfo"]["endCursor"]


DOORS: tuple[Door, ...] = (
    Rest("A", "/api/{user}/tasks"),
    Rest("B", "/api/v1/{user}/tasks", envelope=True, sets_completion=False,
         sorts=("created_at", "updated_at", "priority"), filters_priority=False),
    Rest("C", "/api/tasks"),
    GraphQL(),
)
SURFACE_A = DOORS[0]


# ---------------------------------------------------------------- the state machine


def _sort_key(task: ModelTask, sort: str) -> Any:
    if sort == "priority":
        return PRIORITIES.index(task.priority)
    if sort == "status":
        return STATUSES.index(task.status)
    return getattr(task, sort)


class IsolationMachine(RuleBasedStateMachine):
    http: TestClient  # set by the test before running

    def __init__(self) -> None:
        super().__init__()
        run = uuid.uuid4().hex[:8]
        self.users = [f"model-{run}-{name}" for name in ("ann", "ben", "cat")]
        self.model: dict[str, dict[str, ModelTask]] = {user: {} for user in self.users}

    @initialize()
    def start_empty(self) -> None:
        for user in self.users:
            assert SURFACE_A.list(self.http, user, ListQuery(None, None, "created_at", True, 500)) \
                == []

    # -- helpers

    def _owner(self, task_id: str) -> str | None:
        return next((u for u, tasks in self.model.items() if task_id in tasks), None)

    def _all_ids(self) -> list[str]:
        """Every task of every user, in creation order (so that replays draw the same ones)."""
        return [task_id for tasks in self.model.values() for task_id in tasks]

    def _target(self, data: st.DataObject) -> str:
        """Any task of any user, or an id that never existed."""
        return data.draw(st.sampled_from([*self._all_ids(), NEVER_CREATED]), label="task")

    def _check_answer(self, user: str, task_id: str, seen: Task | None) -> ModelTask | None:
        """A task the caller owns must come back; anyone else's must look missing."""
        mine = self.model[user].get(task_id)
        if mine is None:
            assert seen is None, f"{user} reached {task_id} owned by {self._owner(task_id)}"
        else:
            assert seen is not None
            assert seen["user_id"] == user
        return mine

    # -- rules

    @rule(data=st.data(), title=TITLES, priority=st.sampled_from(PRIORITIES),
          status=st.sampled_from(STATUSES))
    def create(self, data: st.DataObject, title: str, priority: str, status: str) -> None:
        user, door = data.draw(st.sampled_from(self.users)), data.draw(st.sampled_from(DOORS))
        seen = door.create(self.http, user, title, priority, status)
        assert (seen["title"], seen["priority"], seen["status"], seen["version"]) == (
            title, priority, status, 1)
        self.model[user][seen["id"]] = ModelTask(
            seen["id"], title, priority, status, seen["completed_at"], seen["created_at"],
            seen["updated_at"])

    @rule(data=st.data())
    def read(self, data: st.DataObject) -> None:
        user, door = data.draw(st.sampled_from(self.users)), data.draw(st.sampled_from(DOORS))
        task_id = self._target(data)
        seen = door.get(self.http, user, task_id)
        if self._check_answer(user, task_id, seen):
            self._assert_same(self.model[user][task_id], seen)  # type: ignore[arg-type]

    @precondition(lambda self: self._all_ids())
    @rule(data=st.data(), title=st.none() | TITLES,
          priority=st.none() | st.sampled_from(PRIORITIES),
          status=st.none() | st.sampled_from(STATUSES))
    def update(self, data: st.DataObject, title: str | None, priority: str | None,
               status: str | None) -> None:
        changes = {k: v for k, v in (("title", title), ("priority", priority), ("status", status))
                   if v is not None}
        if not changes:
            return
        user, door = data.draw(st.sampled_from(self.users)), data.draw(st.sampled_from(DOORS))
        task_id = self._target(data)
        seen = door.update(self.http, user, task_id, changes)
        if mine := self._check_answer(user, task_id, seen):
            mine.change(seen, **changes)  # type: ignore[arg-type]
            self._assert_same(mine, seen)  # type: ignore[arg-type]

    @precondition(lambda self: self._all_ids())
    @rule(data=st.data(), completed=st.none() | st.booleans())
    def complete(self, data: st.DataObject, completed: bool | None) -> None:
        user, door = data.draw(st.sampled_from(self.users)), data.draw(st.sampled_from(DOORS))
        if not door.sets_completion:
            completed = None  # surface B only toggles
        task_id = self._target(data)
        seen = door.complete(self.http, user, task_id, completed)
        if mine := self._check_answer(user, task_id, seen):
            wanted = (not mine.completed) if completed is None else completed
            mine.change(seen, status=mine.reopened_status(wanted))  # type: ignore[arg-type]
            self._assert_same(mine, seen)  # type: ignore[arg-type]

    @precondition(lambda self: self._all_ids())
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        user, door = data.draw(st.sampled_from(self.users)), data.draw(st.sampled_from(DOORS))
        task_id = self._target(data)
        deleted = door.delete(self.http, user, task_id)
        assert deleted == (task_id in self.model[user]), (user, task_id, self._owner(task_id))
        self.model[user].pop(task_id, None)

    @rule(data=st.data(), descending=st.booleans(), page_size=st.integers(1, 4),
          status=st.none() | st.sampled_from(STATUSES),
          priority=st.none() | st.sampled_from(PRIORITIES))
    def list_tasks(self, data: st.DataObject, descending: bool, page_size: int,
                   status: str | None, priority: str | None) -> None:
        user, door = data.draw(st.sampled_from(self.users)), data.draw(st.sampled_from(DOORS))
        sort = data.draw(st.sampled_from(door.sorts))
        query = ListQuery(status, priority if door.filters_priority else None, sort, descending,
                          page_size)
        seen = door.list(self.http, user, query)
        expected = [t for t in self.model[user].values()
                    if query.status in (None, t.status) and query.priority in (None, t.priority)]
        expected.sort(key=lambda t: (_sort_key(t, sort), t.id), reverse=descending)
        assert [t["id"] for t in seen] == [t.id for t in expected], (door.name, query)
        for model_task, seen_task in zip(expected, seen, strict=True):
            self._assert_same(model_task, seen_task)

    # -- the invariant, after every step

    @invariant()
    def every_user_sees_exactly_their_model(self) -> None:
        for user in self.users:
            seen = SURFACE_A.list(self.http, user, ListQuery(None, None, "created_at", True, 500))
            assert {t["id"] for t in seen} == set(self.model[user]), user
            for task in seen:
                self._assert_same(self.model[user][task["id"]], task)

    def _assert_same(self, model: ModelTask, seen: Task) -> None:
        assert seen["completed"] == (seen["status"] == "completed")
        assert (seen["completed_at"] is not None) == seen["completed"]
        expected = (model.id, model.title, model.priority, model.status, model.version,
                    model.completed_at, model.updated_at)
        actual = (seen["id"], seen["title"], seen["priority"], seen["status"], seen["version"],
                  seen["completed_at"], seen["updated_at"])
        assert actual == expected


@pytest.fixture
def http(app: FastAPI, anyio_backend: str) -> Iterator[TestClient]:
    """A synchronous client (hypothesis drives the machine synchronously) on the shared app."""
    with TestClient(app) as client:
        yield client


def test_users_only_ever_reach_their_own_tasks_through_every_door(http: TestClient) -> None:
    IsolationMachine.http = http
    run_state_machine_as_test(IsolationMachine, settings=hypothesis_settings(deadline=None))
