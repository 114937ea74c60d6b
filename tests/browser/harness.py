"""Helpers shared by the browser tests: live-server handle, page guard, screenshots."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

AppFactory = Callable[[], Any]


@dataclass
class LiveServer:
    """A running uvicorn instance on a loopback port."""

    url: str

    @property
    def netloc(self) -> str:
        """Return ``host:port`` of the server."""
        return urlsplit(self.url).netloc


@dataclass
class PageGuard:
    """Records what a page did wrong: off-origin requests, console errors, page errors."""

    allowed_netloc: str
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    checked: bool = False

    def route(self, route: Any) -> None:
        """Let requests to the service through; abort and record every other one."""
        url = route.request.url
        if urlsplit(url).netloc == self.allowed_netloc:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("blockedbyclient")

    def on_console(self, message: Any) -> None:
        """Record console errors (CSP violations show up here)."""
        if message.type == "error":
            self.console_errors.append(f"{message.text} @ {message.location}")

    def assert_clean(self) -> None:
        """Fail if anything off-origin was requested or any error was logged."""
        self.checked = True
        assert self.blocked == [], f"requests to other hosts: {self.blocked}"
        assert self.console_errors == [], f"console errors: {self.console_errors}"
        assert self.page_errors == [], f"page errors: {self.page_errors}"


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot to ``test-artifacts/<name>.png``."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
