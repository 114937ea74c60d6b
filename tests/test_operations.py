"""Rate limits, CORS, logs, metrics and outages through the ASGI app (one process)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.factory import create_app
from app.settings import Settings
from tests.support import (
    ALICE,
    BOB,
    TEST_SECRET,
    assert_error,
    auth,
    metric,
    migrated_sqlite,
    tasks_url,
    token,
)

pytestmark = pytest.mark.anyio

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return migrated_sqlite(tmp_path_factory.mktemp("ops"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"app_env": "development", "database_url": database_url,
                              "better_auth_secret": TEST_SECRET, "_env_file": None}
    return Settings(**(values | overrides)).validated()


@asynccontextmanager
async def serving(settings: Settings, address: str = "127.0.0.1"
                  ) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on a fresh app for ``settings``, calling from ``address``."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    finally:
        await app.state.services.db.dispose()


def log_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


# --- rate limits -------------------------------------------------------------------------------

async def test_list_tasks_over_user_budget_is_429_with_headers(sqlite_url: str):
    settings = make_settings(sqlite_url, rate_limit="3/minute")
    async with serving(settings) as client:
        remaining = []
        for _ in range(3):
            response = await client.get(tasks_url(ALICE), headers=auth(ALICE))
            assert response.status_code == 200
            assert response.headers["ratelimit-limit"] == "3"
            remaining.append(response.headers["ratelimit-remaining"])
        refused = await client.get(tasks_url(ALICE), headers=auth(ALICE))
        other_user = await client.get(tasks_url(BOB), headers=auth(BOB))
    assert remaining == ["2", "1", "0"]
    assert_error(refused, 429, "RATE_LIMITED")
    assert refused.headers["ratelimit-remaining"] == "0"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert 0 <= int(refused.headers["ratelimit-reset"]) <= 60
    assert other_user.status_code == 200


async def test_requests_without_token_spend_the_address_budget(sqlite_url: str):
    settings = make_settings(sqlite_url, rate_limit_anonymous="2/minute")
    async with serving(settings) as client:
        first = [await client.get(tasks_url(ALICE)) for _ in range(2)]
        refused = await client.get(tasks_url(ALICE))
    assert [r.status_code for r in first] == [401, 401]
    assert first[1].headers["ratelimit-remaining"] == "0"
    assert_error(refused, 429, "RATE_LIMITED")
    assert int(refused.headers["retry-after"]) >= 1


async def test_token_guessing_is_limited_per_address_but_a_valid_token_never_is(
        sqlite_url: str):
    settings = make_settings(sqlite_url, rate_limit_anonymous="3/minute")
    async with serving(settings, address="203.0.113.7") as client:
        guesses = [await client.get(tasks_url(ALICE), headers={
            "Authorization": f"Bearer {token(ALICE, secret=f'guess-{i}-' + 'x' * 40)}"})
            for i in range(4)]
        without_token = await client.get(tasks_url(ALICE))
        # a neighbour behind the same address, with a valid token, is served
        valid = await client.get(tasks_url(ALICE), headers=auth(ALICE))
    assert [g.status_code for g in guesses[:3]] == [401, 401, 401]
    assert_error(guesses[3], 429, "RATE_LIMITED")
    assert_error(without_token, 429, "RATE_LIMITED")
    assert valid.status_code == 200


async def test_valid_tokens_do_not_spend_the_address_budget(sqlite_url: str):
    settings = make_settings(sqlite_url, rate_limit_anonymous="1/minute")
    async with serving(settings) as client:
        statuses = [(await client.get(tasks_url(ALICE), headers=auth(ALICE))).status_code
                    for _ in range(5)]
    assert statuses == [200] * 5


async def test_health_ready_and_metrics_are_never_rate_limited(sqlite_url: str):
    settings = make_settings(sqlite_url, rate_limit_anonymous="1/minute", rate_limit="1/minute")
    async with serving(settings) as client:
        responses = [await client.get(path) for path in ("/health", "/ready", "/metrics") * 4]
    assert {r.status_code for r in responses} == {200}
    assert not any("ratelimit-limit" in r.headers for r in responses)


async def test_rate_limit_in_redis_is_shared_between_apps(sqlite_url: str):
    prefix = f"todo-test-{uuid.uuid4().hex}"
    settings = make_settings(sqlite_url, rate_limit="4/minute", rate_limit_storage_url=REDIS_URL,
                             rate_limit_key_prefix=prefix)
    async with serving(settings) as one, serving(settings) as two:
        statuses = [(await client.get(tasks_url(ALICE), headers=auth(ALICE))).status_code
                    for client in (one, two) * 3]
    assert statuses == [200, 200, 200, 200, 429, 429]


async def test_rate_limit_fails_open_when_redis_is_unreachable(sqlite_url: str, capsys):
    settings = make_settings(sqlite_url, rate_limit="1/minute",
                             rate_limit_storage_url=f"redis://127.0.0.1:{free_port()}/0")
    async with serving(settings) as client:
        statuses = [(await client.get(tasks_url(ALICE), headers=auth(ALICE))).status_code
                    for _ in range(5)]
    assert statuses == [200] * 5
    errors = [line for line in log_lines(capsys.readouterr().out)
              if line["logger"] == "todo_api.ratelimit"]
    assert len(errors) == 1
    assert errors[0]["level"] == "error"
    assert "not limited" in errors[0]["message"]


# --- CORS ----------------------------------------------------------------------------------------

async def test_preflight_from_allowed_origin_is_answered_and_cached(sqlite_url: str):
    settings = make_settings(sqlite_url, cors_origins="https://app.example.com")
    async with serving(settings) as client:
        response = await client.options(tasks_url(ALICE), headers={
            "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://app.example.com"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-max-age"] == "600"
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


async def test_cors_response_exposes_api_headers(sqlite_url: str):
    settings = make_settings(sqlite_url, cors_origins="https://app.example.com")
    async with serving(settings) as client:
        response = await client.get(tasks_url(ALICE), headers=auth(ALICE) | {
            "Origin": "https://app.example.com"})
    assert response.headers["access-control-allow-origin"] == "https://app.example.com"
    exposed = response.headers["access-control-expose-headers"].lower()
    for header in ("etag", "location", "x-total-count", "x-request-id", "retry-after",
                   "ratelimit-remaining"):
        assert header in exposed


async def test_preflight_from_other_origin_is_refused(sqlite_url: str):
    settings = make_settings(sqlite_url, cors_origins="https://app.example.com")
    async with serving(settings) as client:
        response = await client.options(tasks_url(ALICE), headers={
            "Origin": "https://evil.example.net", "Access-Control-Request-Method": "GET"})
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_no_other_origin_is_allowed_by_default(sqlite_url: str):
    async with serving(make_settings(sqlite_url)) as client:
        response = await client.get(tasks_url(ALICE), headers=auth(ALICE) | {
            "Origin": "https://app.example.com"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


NEXT_DEV = "http://localhost:3000"
PREFLIGHT = {"Origin": NEXT_DEV, "Access-Control-Request-Method": "PUT",
             "Access-Control-Request-Headers": "authorization, content-type, if-match"}


async def test_development_allows_the_nextjs_dev_server_when_no_origins_are_set(sqlite_url):
    async with serving(make_settings(sqlite_url)) as client:
        preflight = await client.options(tasks_url(ALICE, str(uuid.uuid4())), headers=PREFLIGHT)
        response = await client.get(tasks_url(ALICE), headers=auth(ALICE) | {"Origin": NEXT_DEV})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == NEXT_DEV
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert "PUT" in preflight.headers["access-control-allow-methods"]
    assert response.headers["access-control-allow-origin"] == NEXT_DEV
    assert "x-total-count" in response.headers["access-control-expose-headers"].lower()


async def test_set_origins_replace_the_nextjs_dev_server(sqlite_url: str):
    settings = make_settings(sqlite_url, cors_origins="https://app.example.com")
    async with serving(settings) as client:
        response = await client.options(tasks_url(ALICE), headers=PREFLIGHT)
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_production_never_allows_the_nextjs_dev_server_by_default():
    settings = make_settings("postgresql://postgres@127.0.0.1:5432/unused", app_env="production")
    assert settings.allowed_origins == []
    async with serving(settings) as client:
        response = await client.options(tasks_url(ALICE), headers=PREFLIGHT)
    assert response.status_code == 405
    assert "access-control-allow-origin" not in response.headers


# --- logs ----------------------------------------------------------------------------------------

async def test_request_log_line_is_json_with_route_template(sqlite_url: str, capsys):
    async with serving(make_settings(sqlite_url)) as client:
        response = await client.post(tasks_url(ALICE), json={"title": "x"},
                                     headers=auth(ALICE) | {"X-Request-ID": "req-42"})
    assert response.headers["x-request-id"] == "req-42"
    [line] = [line for line in log_lines(capsys.readouterr().out)
              if line["logger"] == "todo_api.access"]
    assert line["method"] == "POST"
    assert line["route"] == "/api/{user_id}/tasks"
    assert line["status"] == 201
    assert line["request_id"] == "req-42"
    assert line["user_id"] == ALICE
    assert line["level"] == "info"
    assert isinstance(line["duration_ms"], float)
    assert line["time"].endswith("+00:00")


@pytest.mark.parametrize(("headers", "reason"), [
    ({}, "missing"),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, "unsupported_scheme"),
    ({"Authorization": "Bearer not-a-jwt"}, "malformed"),
    ({"Authorization": f"Bearer {token(ALICE, secret='s' * 20 + 'another-secret-value')}"},
     "bad_signature"),
    ({"Authorization": f"Bearer {token(ALICE, ttl=-3600)}"}, "expired"),
])
async def test_every_401_is_audited_with_its_reason_and_no_token(
        sqlite_url: str, capsys, headers: dict[str, str], reason: str):
    async with serving(make_settings(sqlite_url)) as client:
        response = await client.get(tasks_url(ALICE), headers=headers)
    assert response.status_code == 401
    out = capsys.readouterr().out
    audits = [line for line in log_lines(out) if line["logger"] == "todo_api.audit"]
    assert [a["reason"] for a in audits] == [reason]
    assert audits[0]["level"] == "warning"
    assert audits[0]["request_id"] == response.headers["x-request-id"]
    credential = headers.get("Authorization", "").partition(" ")[2]
    if credential:
        assert credential not in out
    assert TEST_SECRET not in out


async def test_403_is_audited_as_user_mismatch(sqlite_url: str, capsys):
    bearer = auth(BOB)
    async with serving(make_settings(sqlite_url)) as client:
        response = await client.get(tasks_url(ALICE), headers=bearer)
    assert_error(response, 403, "FORBIDDEN")
    out = capsys.readouterr().out
    [audit] = [line for line in log_lines(out) if line["logger"] == "todo_api.audit"]
    assert (audit["reason"], audit["path"]) == ("user_mismatch", tasks_url(ALICE))
    assert audit["request_id"] == response.headers["x-request-id"]
    assert bearer["Authorization"].split()[1] not in out


# --- metrics -------------------------------------------------------------------------------------

async def test_metrics_count_requests_latency_rejections_and_auth_failures(sqlite_url: str):
    settings = make_settings(sqlite_url, rate_limit="2/minute")
    route = "/api/{user_id}/tasks"
    async with serving(settings) as client:
        before = (await client.get("/metrics")).text
        await client.post(tasks_url(ALICE), json={"title": "m"}, headers=auth(ALICE))
        await client.get(tasks_url(ALICE), headers=auth(ALICE))
        await client.get(tasks_url(ALICE), headers=auth(ALICE))  # third: over the budget
        await client.get(tasks_url(ALICE))
        await client.get(tasks_url(ALICE), headers=auth(BOB))
        await client.get("/nowhere")
        response = await client.get("/metrics")
    after = response.text
    assert response.headers["content-type"].startswith("text/plain")

    def grew(name: str, **labels: str) -> float:
        return metric(after, name, **labels) - metric(before, name, **labels)

    requests = "todo_api_http_requests_total"
    assert grew(requests, method="POST", route=route, status="201") == 1
    assert grew(requests, method="GET", route=route, status="429") == 1
    assert grew(requests, method="GET", route="unmatched", status="404") == 1
    assert grew("todo_api_http_request_duration_seconds_count", method="POST", route=route) == 1
    assert grew("todo_api_rate_limit_rejections_total", scope="user") == 1
    assert grew("todo_api_auth_failures_total", reason="missing") == 1
    assert grew("todo_api_auth_failures_total", reason="user_mismatch") == 1
    assert metric(after, "todo_api_db_pool_connections_in_use") == 0
    assert "todo_api_db_pool_connections_in_use" in after


def test_a_fresh_process_starts_with_no_authorization_failures():
    # Rendering the 403 examples of /openapi.json at import used to log and count 12 of them.
    script = ("from prometheus_client import REGISTRY; import app.factory; print(REGISTRY."
              "get_sample_value('todo_api_auth_failures_total', {'reason': 'user_mismatch'}))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=True, cwd=Path(__file__).parent.parent)
    assert done.stdout.strip() in ("None", "0.0")
    assert "authorization failed" not in done.stderr + done.stdout


# --- database outage (fast, in process) ----------------------------------------------------------

async def test_unreachable_database_is_503_with_retry_after(tmp_path: Path):
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    settings = make_settings(url, db_connect_timeout_seconds=1)
    async with serving(settings) as client:
        listed = await client.get(tasks_url(ALICE), headers=auth(ALICE))
        created = await client.post(tasks_url(ALICE), json={"title": "x"}, headers=auth(ALICE))
        ready = await client.get("/ready")
        alive = await client.get("/health")
    for response in (listed, created):
        assert_error(response, 503, "SERVICE_UNAVAILABLE")
        assert response.headers["retry-after"] == "5"
    assert (ready.status_code, ready.headers["retry-after"]) == (503, "5")
    assert alive.status_code == 200


async def test_every_response_has_security_headers(sqlite_url: str):
    async with serving(make_settings(sqlite_url)) as client:
        responses = [await client.get(path) for path in ("/health", "/metrics", "/nowhere")]
        responses.append(await client.get(tasks_url(ALICE)))
    for response in responses:
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"
