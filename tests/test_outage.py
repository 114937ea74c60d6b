"""A PostgreSQL outage while requests flow: only 503s or successes, no lost writes, recovery."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from persistence.migrate import upgrade
from tests.processes import PostgresCluster, Service, service, wait_until
from tests.support import ALICE, auth, tasks_url

pytestmark = pytest.mark.slow

REQUEST_TIMEOUT_SECONDS = 15  # well above the service's own bounds: a hang fails the test


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    pg = PostgresCluster()
    try:
        pg.start()
        upgrade(pg.url)
        yield pg
    finally:
        pg.remove()


class Traffic:
    """Writers and readers hitting the service until stopped; every answer is recorded."""

    def __init__(self, server: Service) -> None:
        self.server = server
        self.statuses: list[tuple[float, int]] = []
        self.acknowledged: list[str] = []
        self.problems: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(n,)) for n in range(4)]

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _run(self, worker: int) -> None:
        headers = auth(ALICE)
        with httpx.Client(base_url=self.server.url, timeout=REQUEST_TIMEOUT_SECONDS) as http:
            n = 0
            while not self._stop.is_set():
                n += 1
                try:
                    if worker % 2:
                        response = http.get(tasks_url(ALICE), headers=headers)
                    else:
                        response = http.post(tasks_url(ALICE), headers=headers,
                                             json={"title": f"w{worker}-{n}"})
                except httpx.HTTPError as error:
                    self.problems.append(f"{type(error).__name__}: {error}")
                    continue
                self._record(response)
                time.sleep(0.02)

    def _record(self, response: httpx.Response) -> None:
        self.statuses.append((time.monotonic(), response.status_code))
        if response.status_code == 201:
            self.acknowledged.append(response.json()["id"])
        elif response.status_code == 503:
            body = response.json()
            if body["code"] != "SERVICE_UNAVAILABLE" or response.headers.get("retry-after") != "5":
                self.problems.append(f"bad 503: {response.headers} {body}")
        elif response.status_code != 200:
            self.problems.append(f"{response.status_code}: {response.text}")

    def succeeded_since(self, moment: float) -> bool:
        return any(at > moment and status in (200, 201) for at, status in self.statuses)


def test_database_outage_answers_503_keeps_writes_and_recovers(cluster: PostgresCluster,
                                                               tmp_path: Path):
    env = {"DATABASE_URL": cluster.url, "DB_CONNECT_TIMEOUT_SECONDS": "2",
           "DB_POOL_TIMEOUT_SECONDS": "2", "DB_STATEMENT_TIMEOUT_SECONDS": "5",
           "RATE_LIMIT": "100000/minute"}
    with service(env, tmp_path / "service.log") as server:
        with Traffic(server) as traffic:
            wait_until(lambda: traffic.succeeded_since(0), what="traffic to flow")
            cluster.stop()
            down = time.monotonic()
            wait_until(lambda: any(at > down and s == 503 for at, s in traffic.statuses),
                       what="503s during the outage")
            ready_during = httpx.get(f"{server.url}/ready", timeout=REQUEST_TIMEOUT_SECONDS)
            time.sleep(1)
            cluster.start()
            up = time.monotonic()
            wait_until(lambda: traffic.succeeded_since(up), seconds=30, what="recovery")
            ready_after = httpx.get(f"{server.url}/ready", timeout=REQUEST_TIMEOUT_SECONDS)
        assert server.process.poll() is None  # the same process served throughout
        stored = _stored_ids(server)
    assert traffic.problems == []
    assert {status for _, status in traffic.statuses} <= {200, 201, 503}
    assert (ready_during.status_code, ready_after.status_code) == (503, 200)
    assert traffic.acknowledged
    assert set(traffic.acknowledged) <= stored


def _stored_ids(server: Service) -> set[str]:
    """The ids of every task the service has for ALICE, page by page."""
    ids: set[str] = set()
    with httpx.Client(base_url=server.url, timeout=REQUEST_TIMEOUT_SECONDS) as http:
        while True:
            response = http.get(f"{tasks_url(ALICE)}?limit=500&offset={len(ids)}",
                                headers=auth(ALICE))
            assert response.status_code == 200
            page = {task["id"] for task in response.json()}
            ids |= page
            if "link" not in response.headers:
                return ids
