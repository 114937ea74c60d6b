"""Several service processes share one rate-limit budget in Redis, and survive Redis outages."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.processes import RedisServer, Service, service, wait_until
from tests.support import auth, migrated_sqlite, tasks_url

pytestmark = pytest.mark.slow

SHARED_REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="module")
def database_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    return migrated_sqlite(tmp_path_factory.mktemp("scaling"))


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    redis = RedisServer()
    redis.start()
    yield redis
    redis.stop()


def limit_env(database_url: str, storage_url: str, user_rate: str, address_rate: str
              ) -> dict[str, str]:
    return {"DATABASE_URL": database_url, "RATE_LIMIT": user_rate,
            "RATE_LIMIT_ANONYMOUS": address_rate, "RATE_LIMIT_STORAGE_URL": storage_url,
            "RATE_LIMIT_KEY_PREFIX": f"todo-test-{uuid.uuid4().hex}"}


def list_status(server: Service, user: str) -> httpx.Response:
    return httpx.get(server.url + tasks_url(user), headers=auth(user), timeout=10)


def test_two_processes_share_user_and_address_budgets_in_redis(database_file: str,
                                                               tmp_path: Path):
    env = limit_env(database_file, SHARED_REDIS, "6/minute", "3/minute")
    user = f"user-{uuid.uuid4().hex[:8]}"
    with service(env, tmp_path / "one.log") as one, service(env, tmp_path / "two.log") as two:
        responses = [list_status(server, user) for server in (one, two) * 5]
        anonymous = [httpx.get(server.url + tasks_url(user), timeout=10).status_code
                     for server in (one, two) * 3]
    assert [r.status_code for r in responses] == [200] * 6 + [429] * 4
    assert [r.headers["ratelimit-remaining"] for r in responses[:6]] == list("543210")
    assert all(int(r.headers["retry-after"]) >= 1 for r in responses[6:])
    assert responses[7].json()["code"] == "RATE_LIMITED"
    assert anonymous == [401, 401, 401, 429, 429, 429]


def test_redis_outage_fails_open_and_limiting_resumes(database_file: str, tmp_path: Path,
                                                      private_redis: RedisServer):
    env = limit_env(database_file, private_redis.url, "2/minute", "2/minute")
    user = f"user-{uuid.uuid4().hex[:8]}"
    with service(env, tmp_path / "one.log") as one, service(env, tmp_path / "two.log") as two:
        before = [list_status(server, user).status_code for server in (one, two, one)]
        private_redis.stop()
        during = [list_status(server, user) for server in (one, two) * 5]
        private_redis.start()  # empty again: a fresh budget once the services reconnect
        wait_until(lambda: "ratelimit-limit" in list_status(one, user).headers,
                   what="rate limiting to resume on the first process")
        wait_until(lambda: "ratelimit-limit" in list_status(two, user).headers,
                   what="rate limiting to resume on the second process")
        after = [list_status(server, user).status_code for server in (one, two)]
        logs = one.log_lines() + two.log_lines()
    assert before == [200, 200, 429]
    assert [r.status_code for r in during] == [200] * 10
    assert not any("ratelimit-limit" in r.headers for r in during)
    assert after == [429, 429]  # each process spent one in the wait above: the budget is shared
    errors = [line for line in logs if line["message"].startswith("rate limit storage unavailable")]
    assert len(errors) == 2  # once per process, not once per request
    assert sum(line["message"].startswith("rate limit storage is back") for line in logs) == 2


def test_metrics_add_up_every_worker(database_file: str, tmp_path: Path):
    env = {"DATABASE_URL": database_file, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    with service(env, tmp_path / "workers.log", workers=2) as server:
        for _ in range(20):
            httpx.get(f"{server.url}/health", timeout=10)
        text = httpx.get(f"{server.url}/metrics", timeout=10).text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    [health] = [s for s in families["todo_api_http_requests"].samples
                if s.name.endswith("_total") and s.labels["route"] == "/health"]
    assert health.value == 21  # ours and the one start-up poll that succeeded, from both workers
    assert "todo_api_db_pool_connections_in_use" in families
