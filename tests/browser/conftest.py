"""Fixtures for headless-Chromium tests of the developer pages, served by a real uvicorn."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from app.devpages import STATIC_DIR

from .harness import AppFactory, LiveServer, PageGuard

playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_socket() -> socket.socket:
    """Bind a TCP socket on a free loopback port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    """Block until uvicorn is serving, or fail."""
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)


@pytest.fixture
def live_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """Serve ``request.param()`` (an ASGI app factory; parametrise indirectly) under uvicorn."""
    factory: AppFactory = request.param
    sock = _free_socket()
    config = uvicorn.Config(factory(), log_level="warning", lifespan="auto")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait_started(server, thread)
        host, port = sock.getsockname()
        yield LiveServer(url=f"http://{host}:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Launch the system Chromium once per module.

    Not per session: while Playwright's sync API is active it owns the main thread's event loop,
    and later session fixtures (the migrated test databases) need ``asyncio.run`` there.
    """
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing: apt-get install -y chromium")
        pytest.skip(f"{CHROMIUM} missing: apt-get install -y chromium")
    if not (STATIC_DIR / "vendor").is_dir():
        pytest.fail("app/static/vendor missing: run `bash web/build.sh`")
    with playwright_sync.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def guarded_page(browser: Any, live_server: LiveServer) -> Iterator[tuple[Any, PageGuard]]:
    """A fresh page that may only talk to ``live_server``; fails the test on any error."""
    guard = PageGuard(allowed_netloc=live_server.netloc)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    context.route("**/*", guard.route)
    page.on("console", guard.on_console)
    page.on("pageerror", lambda exc: guard.page_errors.append(str(exc)))
    yield page, guard
    context.close()
    if not guard.checked:
        guard.assert_clean()
