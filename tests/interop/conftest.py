"""Fixtures: real Better Auth servers (Node, from npm), their users, and our app in either mode."""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.factory import create_app
from app.settings import Settings
from tests.doors import Caller
from tests.support import wipe

from . import better_auth_harness
from .better_auth_harness import DEFAULT_PG_DSN, BetterAuthServer, SupportedAlg
from .better_auth_harness import running_better_auth as _running_better_auth

PASSWORD = "correct-horse-battery-1"
#: The secret a Next.js frontend shares with us in BETTER_AUTH_SECRET mode.
SHARED_SECRET = "nextjs-shared-secret-Zq8v1Lm4Xw7Rt2Kp9Yb3Nc6Hd0"


def require_node_modules() -> None:
    """Better Auth and jose from npm; a run that cannot install them fails, it never skips."""
    try:
        better_auth_harness.ensure_node_modules()
    except RuntimeError as error:
        pytest.fail(f"Better Auth interop suite cannot run: {error}", pytrace=False)


@pytest.fixture(scope="session")
def node_modules() -> None:
    require_node_modules()


def _drop_database(name: str) -> None:
    dsn = (os.environ.get("INTEROP_PG_DSN") or DEFAULT_PG_DSN).rstrip("/")
    subprocess.run(
        ["psql", "-d", f"{dsn}/postgres", "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
        check=False, capture_output=True, timeout=60,
    )


@contextlib.contextmanager
def better_auth(label: str, **options: Any) -> Iterator[BetterAuthServer]:
    """A Better Auth server on its own throwaway PostgreSQL database, dropped afterwards."""
    name = f"better_auth_t{uuid.uuid4().hex[:10]}_{label}"
    try:
        with _running_better_auth(db_name=name, **options) as server:
            yield server
    finally:
        _drop_database(name)


def sign_up(server: BetterAuthServer, who: str) -> Caller:
    """A new Better Auth user, signed in, with a JWT from ``GET /api/auth/token``."""
    email = f"{who}-{uuid.uuid4().hex[:6]}@example.com"
    user = server.sign_up(email, PASSWORD, who.title())
    token = server.jwt_for(email, PASSWORD)
    return Caller(user_id=user["id"], token=token, email=email, name=user["name"])


@pytest.fixture(scope="module")
def ba(node_modules: None) -> Iterator[BetterAuthServer]:
    """The frontend's Better Auth (EdDSA, its default)."""
    with better_auth("main") as server:
        yield server


@pytest.fixture(scope="module")
def alice(ba: BetterAuthServer) -> Caller:
    return sign_up(ba, "alice")


@pytest.fixture(scope="module")
def bob(ba: BetterAuthServer) -> Caller:
    return sign_up(ba, "bob")


@pytest.fixture(scope="module")
def ba_other(node_modules: None) -> Iterator[BetterAuthServer]:
    """A second Better Auth instance: other keys, other secret."""
    with better_auth("other", secret="another-better-auth-secret-9876543210fedcba") as server:
        yield server


@pytest.fixture(scope="module")
def ba_rotating(node_modules: None) -> Iterator[BetterAuthServer]:
    """A Better Auth whose keys the rotation tests replace."""
    with better_auth("rotating") as server:
        yield server


@pytest.fixture(scope="module")
def ba_by_alg(node_modules: None) -> Iterator[dict[str, BetterAuthServer]]:
    """Better Auth configured for RS256, and another for ES256, started once per module."""
    algs: tuple[SupportedAlg, ...] = ("RS256", "ES256")
    with contextlib.ExitStack() as stack:
        yield {alg: stack.enter_context(better_auth(alg.lower(), alg=alg)) for alg in algs}


@pytest.fixture(scope="module")
def expired(node_modules: None) -> Iterator[tuple[BetterAuthServer, Caller]]:
    """A Better Auth issuing 1-second tokens, and a user whose token has already expired."""
    with better_auth("short", jwt_expiration="1s") as server:
        caller = sign_up(server, "erin")
        expires_at = jwt.decode(caller.token, options={"verify_signature": False})["exp"]
        time.sleep(max(0.0, expires_at + 1 - time.time()))
        yield server, caller


def make_settings(database_url: str, **options: Any) -> Settings:
    """Settings for one mode; everything auth-related is explicit so the environment can't leak."""
    auth: dict[str, Any] = {"better_auth_secret": None, "better_auth_jwks_url": None,
                            "better_auth_url": None, "jwt_issuer": None, "jwt_audience": None}
    return Settings(
        app_env="development", database_url=database_url, db_pool_size=5, db_max_overflow=5,
        _env_file=None,
        **(auth | options),
    ).validated()


def jwks_settings(database_url: str, server: BetterAuthServer, **options: Any) -> Settings:
    """JWKS mode as the README describes it: the JWKS URL, and Better Auth's URL as iss/aud."""
    return make_settings(database_url, better_auth_jwks_url=server.jwks_url,
                         better_auth_url=server.base_url, **options)


@dataclass
class Service:
    """Our app, and an HTTP client talking to it in-process."""

    app: FastAPI
    http: httpx.AsyncClient

    async def rows(self, sql: str) -> list[tuple[Any, ...]]:
        async with self.app.state.services.db.transaction() as session:
            return [tuple(row) for row in (await session.execute(text(sql))).all()]


@contextlib.asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[Service]:
    """Run the app for one test; its tasks and users are deleted afterwards."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Service(app, http)
    finally:
        await wipe(app.state.services.db)
        await app.state.services.db.dispose()


@pytest.fixture
async def service(database_url: str, ba: BetterAuthServer) -> AsyncIterator[Service]:
    """Our app in JWKS mode, trusting the main Better Auth."""
    async with serve(jwks_settings(database_url, ba)) as running:
        yield running


@dataclass
class CountingProxy:
    """A loopback HTTP forwarder that counts the requests passing through it."""

    upstream: str
    url: str = ""
    count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self) -> None:
        with self._lock:
            self.count += 1


@contextlib.contextmanager
def counting_proxy(upstream: str) -> Iterator[CountingProxy]:
    """Serve ``upstream`` (a GET-only URL) through a proxy that counts fetches."""
    proxy = CountingProxy(upstream)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            proxy.record()
            response = httpx.get(proxy.upstream, timeout=10)
            self.send_response(response.status_code)
            self.send_header("content-type", response.headers.get("content-type", ""))
            self.send_header("content-length", str(len(response.content)))
            self.end_headers()
            self.wfile.write(response.content)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}/jwks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
