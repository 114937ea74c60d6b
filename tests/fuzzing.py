"""What the schemathesis tests share: one ASGI entry point that forwards to each test's app."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI


class AppUnderTest:
    """The ASGI app schemathesis calls: it forwards everything to the current test's app.

    Schemathesis binds an app to each operation when it collects the tests, but every test here
    has its own app on its own database; lifespans (the engine's disposal) are forwarded too.
    """

    def __init__(self) -> None:
        self.target: FastAPI | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert self.target is not None, "no app under test"
        await self.target(scope, receive, send)


APP = AppUnderTest()
