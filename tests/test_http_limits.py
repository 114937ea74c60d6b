"""HTTP limits the server process enforces itself, against a real `todo-api serve`, raw sockets."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import select
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from uvicorn.config import Config
from uvicorn.server import ServerState

from app.server import HttpLimits, LimitedHttpToolsProtocol
from app.settings import Settings
from persistence.migrate import upgrade
from tests.processes import Service, service, wait_until
from tests.support import ALICE, auth, tasks_url

SHORT = "1"  # seconds: the header, body and keep-alive timeouts of the test server
CAP = 4


@pytest.fixture(scope="module")
def database_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('limits') / 'todo.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="module")
def server(database_file: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    env = {"DATABASE_URL": database_file, "HTTP_HEADER_TIMEOUT_SECONDS": SHORT,
           "HTTP_BODY_TIMEOUT_SECONDS": SHORT, "HTTP_KEEPALIVE_TIMEOUT_SECONDS": SHORT}
    with service(env, tmp_path_factory.mktemp("limits-log") / "serve.log") as running:
        yield running


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def connect(server: Service) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=15)


def read_answer(sock: socket.socket) -> Answer:
    """One HTTP/1.1 response with a Content-Length, read off ``sock``."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed without a complete answer: {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, value in
               (line.split(":", 1) for line in lines)}
    while len(body) < int(headers["content-length"]):
        chunk = sock.recv(65536)
        assert chunk, "closed in the middle of a body"
        body += chunk
    return Answer(int(status_line.split()[1]), headers, body)


def closed_by_server(sock: socket.socket) -> bool:
    """True once the server has closed ``sock`` (end of stream or a reset)."""
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True


def ask(server: Service, request: bytes) -> Answer:
    with connect(server) as sock:
        sock.sendall(request)
        return read_answer(sock)


def get(path: str = "/health", *headers: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *headers, "", ""]
    return "\r\n".join(lines).encode()


def health_is_ok(server: Service) -> bool:
    return httpx.get(f"{server.url}/health", timeout=10).status_code == 200


def worker_rss_kib(server: Service) -> int:
    [pid] = server.worker_pids()
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])


def assert_refused(answer: Answer, status: int, code: str) -> None:
    assert answer.status == status
    assert answer.headers["connection"] == "close"
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["code"] == code
    assert body["request_id"] == answer.headers["x-request-id"]
    assert body["detail"]


# --- the request head: size and count ------------------------------------------------------------

def test_header_block_over_16_kib_is_431_and_one_under_is_served(server: Service):
    near_limit = ask(server, get("/health", "X-Filler: " + "a" * (15 * 1024)))
    too_large = ask(server, get("/health", "X-Filler: " + "a" * (16 * 1024)))
    assert near_limit.status == 200
    assert_refused(too_large, 431, "HEADERS_TOO_LARGE")
    assert health_is_ok(server)


def test_endless_header_is_cut_off_without_growing_the_process(server: Service):
    before = worker_rss_kib(server)
    sent, chunk = 0, b"a" * 65536
    with connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Endless: ")
        try:
            while sent < 64 * 1024 * 1024:
                sock.sendall(chunk)
                sent += len(chunk)
        except (ConnectionResetError, BrokenPipeError):
            pass
    assert sent < 64 * 1024 * 1024  # the server stopped reading and closed the connection
    assert worker_rss_kib(server) - before < 8 * 1024
    assert health_is_ok(server)


def test_more_than_100_headers_is_431(server: Service):
    hundred = [f"X-Header-{i}: {i}" for i in range(99)]  # and Host
    assert ask(server, get("/health", *hundred)).status == 200
    too_many = ask(server, get("/health", *hundred, "X-One-More: 1"))
    assert_refused(too_many, 431, "HEADERS_TOO_LARGE")
    assert health_is_ok(server)


# --- slow clients --------------------------------------------------------------------------------

def test_header_trickle_is_disconnected_while_health_stays_responsive(server: Service):
    attackers = [connect(server) for _ in range(20)]
    received = dict.fromkeys(attackers, b"")
    cut_off: dict[socket.socket, int] = {}
    health_during = []
    for round_number in range(40):  # 40 rounds of 0.25 s: ten times the header timeout
        for sock in attackers:
            if sock in cut_off:
                continue
            try:
                sock.sendall(b"GET /health HTTP/1.1\r\n" if round_number == 0 else b"X-a: b\r\n")
            except (ConnectionResetError, BrokenPipeError):
                cut_off[sock] = round_number
        readable, _, _ = select.select([s for s in attackers if s not in cut_off], [], [], 0)
        for sock in readable:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                data = b""
            received[sock] += data
            if not data:
                cut_off[sock] = round_number
        if round_number < 2:  # the attackers hold their connections
            health_during.append(health_is_ok(server))
        if len(cut_off) == len(attackers):
            break
        time.sleep(0.25)
    for sock in attackers:
        sock.close()
    assert len(cut_off) == len(attackers), "some trickling connections were never closed"
    assert all(data.startswith(b"HTTP/1.1 408 ") for data in received.values())
    assert b'"code":"REQUEST_TIMEOUT"' in received[attackers[0]]
    assert health_during == [True, True]


def test_new_connection_that_sends_nothing_is_closed_without_an_answer(server: Service):
    with connect(server) as sock:
        assert closed_by_server(sock)


def test_next_request_head_on_a_kept_alive_connection_has_the_same_deadline(server: Service):
    with connect(server) as sock:
        sock.sendall(get())
        assert read_answer(sock).status == 200
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.")
        assert_refused(read_answer(sock), 408, "REQUEST_TIMEOUT")
        assert closed_by_server(sock)


def test_body_trickle_gets_408_and_the_request_is_abandoned(server: Service):
    user = f"{ALICE}-slow-body"
    headers = "".join(f"{name}: {value}\r\n" for name, value in auth(user).items())
    with connect(server) as sock:
        sock.sendall(f"POST {tasks_url(user)} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
                     "Content-Type: application/json\r\nContent-Length: 200\r\n\r\n"
                     '{"title": "never fin'.encode())
        answer = read_answer(sock)
        assert closed_by_server(sock)
    assert_refused(answer, 408, "REQUEST_TIMEOUT")
    listed = httpx.get(server.url + tasks_url(user), headers=auth(user), timeout=10)
    assert listed.json() == []  # the application saw a disconnect and created nothing
    wait_until(lambda: _access_line(server, user) is not None, what="the abandoned request's log")
    assert _access_line(server, user) == 499  # finished, as a request nobody waits for


def _access_line(server: Service, user: str) -> int | None:
    """The status logged for ``user``'s POST, once the application has finished it."""
    return next((line["status"] for line in server.log_lines()
                 if line.get("logger") == "todo_api.access" and line.get("method") == "POST"
                 and line.get("user_id") == user), None)


def test_idle_keep_alive_connection_is_closed_after_its_timeout(server: Service):
    with connect(server) as sock:
        for _ in range(2):  # kept alive between requests
            sock.sendall(get())
            assert read_answer(sock).status == 200
        assert closed_by_server(sock)  # then closed without a word


# --- the connection cap --------------------------------------------------------------------------

def test_connections_past_the_cap_are_refused_at_once_while_open_ones_are_served(
        database_file: str, tmp_path: Path):
    env = {"DATABASE_URL": database_file, "HTTP_MAX_CONNECTIONS": str(CAP),
           "HTTP_KEEPALIVE_TIMEOUT_SECONDS": "60", "HTTP_HEADER_TIMEOUT_SECONDS": "60"}
    with service(env, tmp_path / "serve.log") as capped:
        wait_until(lambda: _accepts_a_request(capped), what="the start-up probes to close")
        held = [connect(capped) for _ in range(CAP)]
        for sock in held:  # an answer proves the server counts the connection
            sock.sendall(get())
            assert read_answer(sock).status == 200
        with connect(capped) as refused:  # it sends nothing: the answer does not wait for it
            answer = read_answer(refused)
            assert closed_by_server(refused)
        held[0].sendall(get())
        still_served = read_answer(held[0])
        for sock in held:
            sock.close()
        wait_until(lambda: _accepts_a_request(capped), what="a free place after closing")
    assert_refused(answer, 503, "SERVICE_UNAVAILABLE")
    assert answer.headers["retry-after"] == "1"
    assert still_served.status == 200


def _accepts_a_request(server: Service) -> bool:
    with connect(server) as sock:
        sock.sendall(get())
        return read_answer(sock).status == 200


# --- the head budget, whatever the segmentation --------------------------------------------------

PROPERTY_LIMIT = 1024  # a small budget keeps every example cheap; the rule does not depend on it


class _Transport(asyncio.Transport):
    """A socket's stand-in: keeps what the protocol writes and whether it closed."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 8000)}.get(name)


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _statuses(stream: bytes, cuts: list[int]) -> list[int]:
    """The statuses answered to ``stream`` when it arrives cut at ``cuts``."""
    config = Config(app=_ok, lifespan="off", log_config=None)
    limits = HttpLimits(max_header_bytes=PROPERTY_LIMIT, max_headers=100, header_timeout=60,
                        body_timeout=60, keepalive_timeout=60, max_connections=10)
    transport = _Transport()

    async def deliver() -> None:
        protocol = LimitedHttpToolsProtocol(config=config, server_state=ServerState(),
                                            app_state={}, limits=limits)
        protocol.connection_made(transport)
        bounds = [0, *sorted(set(cuts)), len(stream)]
        for start, end in itertools.pairwise(bounds):
            if start < end and not transport.closing:
                protocol.data_received(stream[start:end])
                for _ in range(20):  # let the application answer before the next piece
                    await asyncio.sleep(0)
        protocol.connection_lost(None)

    asyncio.run(deliver())
    return [int(status) for status in re.findall(rb"HTTP/1\.1 (\d{3}) ", transport.written)]


def _request(filler: int) -> bytes:
    return b"GET / HTTP/1.1\r\nHost: a\r\nX-Filler: " + b"a" * filler + b"\r\n\r\n"


@given(filler=st.integers(0, 2 * PROPERTY_LIMIT),
       cuts=st.lists(st.integers(0, 3 * PROPERTY_LIMIT), max_size=8))
def test_a_head_is_answered_431_exactly_when_it_is_over_the_budget(filler: int, cuts: list[int]):
    request = _request(filler)
    expected = 200 if len(request) <= PROPERTY_LIMIT else 431
    assert _statuses(request, [c for c in cuts if c < len(request)]) == [expected]


@given(fillers=st.lists(st.integers(0, PROPERTY_LIMIT - 64), min_size=2, max_size=3),
       cuts=st.lists(st.integers(0, 3 * PROPERTY_LIMIT), max_size=8))
def test_pipelined_heads_within_the_budget_are_all_answered(fillers: list[int], cuts: list[int]):
    stream = b"".join(_request(filler) for filler in fillers)
    assert _statuses(stream, [c for c in cuts if c < len(stream)]) == [200] * len(fillers)


# --- settings ------------------------------------------------------------------------------------

def test_http_limits_default_to_16_kib_100_headers_10_30_5_seconds():
    limits = HttpLimits.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    assert limits == HttpLimits(max_header_bytes=16 * 1024, max_headers=100, header_timeout=10.0,
                                body_timeout=30.0, keepalive_timeout=5.0, max_connections=2048)


def test_http_limits_are_read_from_their_environment_variables(monkeypatch: pytest.MonkeyPatch):
    for name, value in {"HTTP_MAX_HEADER_BYTES": "8192", "HTTP_MAX_HEADERS": "50",
                        "HTTP_HEADER_TIMEOUT_SECONDS": "2.5", "HTTP_BODY_TIMEOUT_SECONDS": "7",
                        "HTTP_KEEPALIVE_TIMEOUT_SECONDS": "1", "HTTP_MAX_CONNECTIONS": "10"
                        }.items():
        monkeypatch.setenv(name, value)
    limits = HttpLimits.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    assert limits == HttpLimits(max_header_bytes=8192, max_headers=50, header_timeout=2.5,
                                body_timeout=7.0, keepalive_timeout=1.0, max_connections=10)
