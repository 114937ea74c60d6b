"""/docs (Swagger UI): authorised as the demo user in development, never in production."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from app.devpages import DOCS_CSP
from app.factory import create_app
from app.settings import Settings
from app.tokens import DEMO_USER
from tests.support import TEST_SECRET

pytestmark = pytest.mark.anyio

CONFIG = re.compile(r'<script type="application/json" id="swagger-config">(.*?)</script>')
SCRIPT = re.compile(r"<script([^>]*)>(.*?)</script>", re.DOTALL)


def page_config(page: httpx.Response) -> dict[str, Any]:
    """The configuration the page hands to Swagger UI."""
    match = CONFIG.search(page.text)
    assert match, page.text
    config: dict[str, Any] = json.loads(match.group(1))
    return config


async def test_docs_in_development_carry_a_working_demo_token(client: httpx.AsyncClient):
    page = await client.get("/docs")
    assert page.status_code == 200
    token = page_config(page)["bearerToken"]
    response = await client.get(f"/api/{DEMO_USER}/tasks",
                                headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, response.json()) == (200, [])


async def test_docs_script_runs_only_from_our_origin(client: httpx.AsyncClient):
    page = await client.get("/docs")
    assert page.headers["content-security-policy"] == DOCS_CSP
    assert "'unsafe-inline'" not in DOCS_CSP
    assert "script-src 'self';" in DOCS_CSP
    for attributes, body in SCRIPT.findall(page.text):
        assert ' src="/static/' in attributes or (
            'type="application/json"' in attributes and "<" not in body), attributes


async def test_docs_in_production_carry_no_token(database_url: str):
    # Not validated: production refuses SQLite, and the page is what is tested here.
    settings = Settings(app_env="production", database_url=database_url,
                        better_auth_secret=TEST_SECRET, _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://testserver") as client:
            page = await client.get("/docs")
        assert page.status_code == 200
        assert page_config(page)["bearerToken"] is None
        assert "eyJ" not in page.text
    finally:
        await app.state.services.db.dispose()
