"""Durability: every write a real server acknowledged survives SIGTERM mid-load and a restart."""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from tests.doors import b_url, c_url
from tests.processes import service, wait_until
from tests.support import auth, empty_tables, tasks_url, token

pytestmark = pytest.mark.slow

CLIENTS = 8
LOAD_SECONDS = 4.0
USERS = ("durable-ann", "durable-ben")


@dataclass
class Ledger:
    """What one client was told, about the tasks only it writes."""

    acknowledged: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    uncertain: set[str] = field(default_factory=set)  # a write whose answer never came
    lost_creates: int = 0
    statuses: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class LoadClient(threading.Thread):
    """Creates, updates, toggles, deletes and lists through all three surfaces until stopped."""

    def __init__(self, number: int, base_url: str, stop: threading.Event) -> None:
        super().__init__(name=f"load-{number}", daemon=True)
        self.user = USERS[number % len(USERS)]
        self.random = random.Random(number)
        self.base_url = base_url
        self.stop = stop
        self.ledger = Ledger()

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, headers=auth(self.user), timeout=15) as http:
            while not self.stop.is_set():
                self.step(http)

    def step(self, http: httpx.Client) -> None:
        mine = [i for i in self.ledger.acknowledged if i not in self.ledger.deleted]
        choice = self.random.random()
        if choice < 0.35 or not mine:
            self.send(http, None, *self.random.choice([
                ("POST", tasks_url(self.user)), ("POST", b_url(self.user)), ("POST", c_url())]),
                json={"title": f"{self.name} {self.random.random()}"})
            return
        task_id = self.random.choice(mine)
        if choice < 0.55:
            url = self.random.choice([tasks_url(self.user, task_id), b_url(self.user, task_id),
                                      c_url(task_id)])
            self.send(http, task_id, "PUT", url, json={
                "title": f"edited {self.random.random()}",
                "priority": self.random.choice(["low", "medium", "high"])})
        elif choice < 0.75:
            url = self.random.choice([tasks_url(self.user, task_id, "/complete"),
                                      b_url(self.user, task_id, "/complete")])
            self.send(http, task_id, "PATCH", url)
        elif choice < 0.85:
            url = self.random.choice([tasks_url(self.user, task_id), b_url(self.user, task_id),
                                      c_url(task_id)])
            self.send(http, task_id, "DELETE", url)
        else:
            self.send(http, None, "GET", tasks_url(self.user) + "?limit=20")

    def send(self, http: httpx.Client, task_id: str | None, method: str, url: str,
             **kwargs: Any) -> None:
        """Send one request and write down what the answer acknowledged."""
        try:
            response = http.request(method, url, **kwargs)
        except httpx.HTTPError:  # the server is going away: this write may or may not be done
            if task_id is not None:
                self.ledger.uncertain.add(task_id)
            elif method == "POST":
                self.ledger.lost_creates += 1
            time.sleep(0.05)
            return
        ledger = self.ledger
        ledger.statuses.append(response.status_code)
        if response.status_code not in (200, 201, 204):
            ledger.problems.append(f"{method} {url}: {response.status_code} {response.text}")
        elif method == "DELETE":
            ledger.deleted.add(str(task_id))
        elif method != "GET":
            body = response.json()
            task = body["data"]["task"] if "/api/v1/" in url else body
            ledger.acknowledged[task["id"]] = task


def _stored(base_url: str) -> dict[str, dict[str, Any]]:
    """Every task of every load user, read back through surface A."""
    stored: dict[str, dict[str, Any]] = {}
    with httpx.Client(base_url=base_url, timeout=15) as http:
        for user in USERS:
            offset = 0
            while True:
                response = http.get(tasks_url(user), params={"limit": 500, "offset": offset},
                                    headers=auth(user))
                assert response.status_code == 200, response.text
                page = response.json()
                stored |= {task["id"]: task for task in page}
                offset += len(page)
                if offset >= int(response.headers["x-total-count"]):
                    break
    return stored


@pytest.fixture
def load_env(database_url: str) -> Iterator[dict[str, str]]:
    yield {"DATABASE_URL": database_url, "RATE_LIMIT": "1000000/minute",
           "RATE_LIMIT_ANONYMOUS": "1000000/minute"}
    anyio.run(empty_tables, database_url)


def test_acknowledged_writes_survive_sigterm_mid_load_and_a_restart(load_env: dict[str, str],
                                                                    tmp_path: Path):
    stop = threading.Event()
    with service(load_env, tmp_path / "first.log") as first:
        clients = [LoadClient(n, first.url, stop) for n in range(CLIENTS)]
        for client in clients:
            client.start()
        time.sleep(LOAD_SECONDS)
        first.stop()  # SIGTERM while every client is still writing
        stop.set()
        for client in clients:
            client.join(timeout=30)
            assert not client.is_alive()
    with service(load_env, tmp_path / "second.log") as second:
        stored = _stored(second.url)

    ledgers = [client.ledger for client in clients]
    assert [p for ledger in ledgers for p in ledger.problems] == []
    assert all(status < 500 for ledger in ledgers for status in ledger.statuses)
    acknowledged = {i: t for ledger in ledgers for i, t in ledger.acknowledged.items()}
    deleted = set().union(*(ledger.deleted for ledger in ledgers))
    uncertain = set().union(*(ledger.uncertain for ledger in ledgers))
    assert len(acknowledged) >= 50, "the load was too light to prove anything"
    assert deleted, "the load deleted nothing"
    for task_id, last in acknowledged.items():
        if task_id in uncertain:  # an unanswered write may or may not have landed
            assert task_id not in stored or stored[task_id]["version"] >= last["version"]
        elif task_id in deleted:
            assert task_id not in stored
        else:
            assert stored.get(task_id) == last, task_id
    unknown = set(stored) - set(acknowledged)
    assert len(unknown) <= sum(ledger.lost_creates for ledger in ledgers)


def test_a_create_retried_after_the_server_died_between_commit_and_answer_is_replayed(
        load_env: dict[str, str], tmp_path: Path):
    user, key = USERS[0], "lost-answer-1"
    body = json.dumps({"title": "created once", "priority": "high"}).encode()
    request = (f"POST {tasks_url(user)} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Authorization: Bearer {token(user)}\r\nContent-Type: application/json\r\n"
               f"Idempotency-Key: {key}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    # The client sends the create and never reads the answer; once the task is committed
    # (visible to another request) the server is killed outright.
    with (service(load_env, tmp_path / "first.log") as first,
          socket.create_connection(("127.0.0.1", first.port)) as lost):
        lost.sendall(request + body)
        wait_until(lambda: _listed(first.url, user) != [], what="the committed create")
        first.kill()
    with service(load_env, tmp_path / "second.log") as second:
        stored = _listed(second.url, user)
        retry = httpx.post(second.url + tasks_url(user), content=body, timeout=15, headers={
            **auth(user), "Content-Type": "application/json", "Idempotency-Key": key})
        after = _listed(second.url, user)
    assert len(stored) == 1
    assert retry.status_code == 201, retry.text
    assert retry.json() == stored[0]
    assert retry.headers["location"] == f"{tasks_url(user)}/{stored[0]['id']}"
    assert retry.headers["etag"] == '"1"'
    assert after == stored


def _listed(base_url: str, user: str) -> list[dict[str, Any]]:
    response = httpx.get(base_url + tasks_url(user), headers=auth(user), timeout=5)
    assert response.status_code == 200, response.text
    tasks: list[dict[str, Any]] = response.json()
    return tasks
