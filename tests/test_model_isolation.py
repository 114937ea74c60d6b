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

import functools
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
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

from tests.doors import DOORS, SURFACE_A, Caller, ListQuery, Outcome, Result, Task, canonical

STATUSES = ("pending", "in_progress", "completed")
PRIORITIES = ("low", "medium", "high")
TITLES = st.text(alphabet="abc", min_size=1, max_size=3)  # few values: many ties in sorting
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


# ---------------------------------------------------------------- the doors


class Send:
    """Runs a door's operation on the app from hypothesis' synchronous rules."""

    def __init__(self, portal: BlockingPortal, http: httpx.AsyncClient) -> None:
        self._portal = portal
        self._http = http

    def __call__(self, operation: Callable[..., Awaitable[Outcome]], *args: Any,
                 **kwargs: Any) -> Outcome:
        return self._portal.call(functools.partial(operation, self._http, *args, **kwargs))


def _seen(outcome: Outcome) -> Task | None:
    """The task in the answer, or None when the door says there is no such task."""
    if outcome.result is Result.NOT_FOUND:
        return None
    return canonical(outcome.ok_task())


EVERYTHING_NEWEST_FIRST = ListQuery(sort="created_at", descending=True, page_size=500)


# ---------------------------------------------------------------- the state machine


def _sort_key(task: ModelTask, sort: str) -> Any:
    if sort == "priority":
        return PRIORITIES.index(task.priority)
    if sort == "status":
        return STATUSES.index(task.status)
    return getattr(task, sort)


class IsolationMachine(RuleBasedStateMachine):
    send: Send  # set by the test before running

    def __init__(self) -> None:
        super().__init__()
        run = uuid.uuid4().hex[:8]
        self.users = [f"model-{run}-{name}" for name in ("ann", "ben", "cat")]
        self.callers = {user: Caller.signed(user) for user in self.users}
        self.model: dict[str, dict[str, ModelTask]] = {user: {} for user in self.users}

    @initialize()
    def start_empty(self) -> None:
        for user in self.users:
            assert self._everything(user) == []

    # -- helpers

    def _everything(self, user: str) -> list[Task]:
        """Every task of ``user``, read through surface A."""
        listed = self.send(SURFACE_A.list, self.callers[user], EVERYTHING_NEWEST_FIRST)
        return [canonical(task) for task in listed.ok_tasks()]

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
        return mine

    # -- rules

    @rule(data=st.data(), title=TITLES, priority=st.sampled_from(PRIORITIES),
          status=st.sampled_from(STATUSES))
    def create(self, data: st.DataObject, title: str, priority: str, status: str) -> None:
        user, door = data.draw(st.sampled_from(self.users)), data.draw(st.sampled_from(DOORS))
        fields = {"title": title, "priority": priority, "status": status}
        seen = canonical(self.send(door.create, self.callers[user], fields).ok_task())
        assert (seen["title"], seen["priority"], seen["status"], seen["version"]) == (
            title, priority, status, 1)
        self.model[user][seen["id"]] = ModelTask(
            seen["id"], title, priority, status, seen["completed_at"], seen["created_at"],
            seen["updated_at"])

    @rule(data=st.data())
    def read(self, data: st.DataObject) -> None:
        user, door = data.draw(st.sampled_from(self.users)), data.draw(st.sampled_from(DOORS))
        task_id = self._target(data)
        seen = _seen(self.send(door.get, self.callers[user], task_id))
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
        seen = _seen(self.send(door.update, self.callers[user], task_id, changes))
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
        caller = self.callers[user]
        answer = (self.send(door.toggle, caller, task_id) if completed is None
                  else self.send(door.set_completed, caller, task_id, completed))
        seen = _seen(answer)
        if mine := self._check_answer(user, task_id, seen):
            wanted = (not mine.completed) if completed is None else completed
            mine.change(seen, status=mine.reopened_status(wanted))  # type: ignore[arg-type]
            self._assert_same(mine, seen)  # type: ignore[arg-type]

    @precondition(lambda self: self._all_ids())
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        user, door = data.draw(st.sampled_from(self.users)), data.draw(st.sampled_from(DOORS))
        task_id = self._target(data)
        answer = self.send(door.delete, self.callers[user], task_id)
        assert answer.result in (Result.OK, Result.NOT_FOUND), answer
        deleted = answer.result is Result.OK
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
        listed = self.send(door.list, self.callers[user], query).ok_tasks()
        seen = [canonical(task) for task in listed]
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
            seen = self._everything(user)
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
def send(app: FastAPI, anyio_backend: str) -> Iterator[Send]:
    """Door operations on the shared app, from a thread of their own (hypothesis is synchronous)."""
    with start_blocking_portal(anyio_backend) as portal:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver")
        try:
            yield Send(portal, http)
        finally:
            portal.call(http.aclose)
            portal.call(app.state.services.db.dispose)  # its connections belong to this loop


@pytest.mark.long
def test_users_only_ever_reach_their_own_tasks_through_every_door(send: Send) -> None:
    IsolationMachine.send = send
    run_state_machine_as_test(IsolationMachine, settings=hypothesis_settings(deadline=None))
