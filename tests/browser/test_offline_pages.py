"""GraphiQL (/graphql) and Swagger UI (/docs) load and work with no network but our own origin.

Each case of GRAPHIQL_CASES / DOCS_CASES names an app factory, the token (or how it starts, for
a token minted when the page is served), the query/expected text and the REST operation id.
"""

from __future__ import annotations

import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import pytest
import strawberry
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from strawberry.fastapi import GraphQLRouter
from strawberry.types import Info

from app.devpages import DOCS_CSP, GRAPHIQL_CSP, graphiql_page, install_docs
from app.factory import create_app
from app.settings import Settings
from app.tokens import DEMO_USER
from persistence.migrate import upgrade
from tests.support import TEST_SECRET

from .harness import AppFactory, PageGuard, screenshot

pytestmark = pytest.mark.browser

DEMO_TOKEN = "demo-token"
bearer = HTTPBearer(auto_error=False)


@strawberry.type
class Query:
    """Demo schema root."""

    @strawberry.field
    def hello(self, info: Info) -> str:
        """Greet the caller named by the bearer token, proving the prefilled header is sent."""
        auth = info.context["request"].headers.get("authorization", "")
        return f"Hello, {auth.removeprefix('Bearer ') or 'anonymous'}"


def demo_app() -> FastAPI:
    """Build a tiny app: a Strawberry `hello` schema and one bearer-protected REST route."""
    app = FastAPI(title="Demo", docs_url=None, redoc_url=None)
    install_docs(app)

    @app.get("/tasks", operation_id="list_tasks")
    async def list_tasks(
        creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> list[dict[str, str]]:
        """Return the caller's tasks (demo: one task when the token is right)."""
        if creds is None or creds.credentials != DEMO_TOKEN:
            raise HTTPException(401, "bad token", headers={"WWW-Authenticate": "Bearer"})
        return [{"id": "1", "title": "write tests"}]

    app.include_router(DemoGraphQLRouter(strawberry.Schema(query=Query)), prefix="/graphql")
    return app


class DemoGraphQLRouter(GraphQLRouter[Any, Any]):
    """Strawberry's router with our self-hosted GraphiQL page."""

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return graphiql_page(example_query="{ hello }", demo_token=lambda: DEMO_TOKEN)()


def real_app() -> FastAPI:
    """Build the service itself in development mode on a fresh SQLite database."""
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='todo-browser-')) / 'todo.db'}"
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's event loop
        pool.submit(upgrade, url).result()
    settings = Settings(app_env="development", database_url=url,
                        better_auth_secret=TEST_SECRET, _env_file=None)  # type: ignore[call-arg]
    return create_app(settings.validated())


@dataclass(frozen=True)
class GraphiQLCase:
    """What to run in GraphiQL and what the response panel must then show."""

    app_factory: AppFactory
    token: str
    query: str
    expected: str


@dataclass(frozen=True)
class DocsCase:
    """Which REST operation to execute from Swagger UI with which token."""

    app_factory: AppFactory
    token: str
    operation_id: str
    expected_status: str = "200"
    parameters: dict[str, str] = field(default_factory=dict)


GRAPHIQL_CASES = {
    "demo": GraphiQLCase(demo_app, DEMO_TOKEN, "{ hello }", '"Hello, demo-token"'),
    # The real page mints the demo user's token when served: a JWT, so it starts with "eyJ".
    "real": GraphiQLCase(real_app, "eyJ", "{ me { id } tasks { totalCount } }", '"demo-user"'),
}
DOCS_CASES = {
    "demo": DocsCase(demo_app, DEMO_TOKEN, "list_tasks"),
}


def _cases(cases: dict[str, Any]) -> list[Any]:
    """Turn named cases into params that also feed the indirect ``live_server`` fixture."""
    return [pytest.param(c.app_factory, c, id=name) for name, c in cases.items()]


def _editor_text(page: Any, selector: str) -> str:
    """Return the text of the CodeMirror editor under ``selector``."""
    return str(page.locator(selector).first.evaluate("el => el.CodeMirror.getValue()"))


@pytest.mark.parametrize(("live_server", "case"), _cases(GRAPHIQL_CASES), indirect=["live_server"])
def test_graphiql_runs_query_offline(
    live_server: Any,
    case: GraphiQLCase,
    guarded_page: tuple[Any, PageGuard],
    request: pytest.FixtureRequest,
) -> None:
    """GraphiQL renders from local assets, has the bearer header prefilled and runs a query."""
    page, guard = guarded_page
    response = page.goto(f"{live_server.url}/graphql")
    assert response.headers["content-security-policy"] == GRAPHIQL_CSP
    page.locator(".graphiql-query-editor .CodeMirror").wait_for()
    page.get_by_role("button", name="Headers").click()
    headers = _editor_text(page, ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror")
    assert f"Bearer {case.token}" in headers
    page.locator(".graphiql-query-editor .CodeMirror").evaluate(
        "(el, q) => el.CodeMirror.setValue(q)", case.query
    )
    page.get_by_role("button", name=re.compile("Execute query")).click()
    result = page.locator(".graphiql-response")
    result.get_by_text(case.expected).wait_for()
    # A Radix dialog injects a <style> element: proves GRAPHIQL_CSP's style-src-elem suffices.
    page.get_by_role("button", name="Open settings dialog").click()
    page.get_by_role("dialog").wait_for()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Show GraphiQL Explorer").click()
    page.locator(".graphiql-explorer-root").wait_for()
    screenshot(page, f"graphiql-{request.node.callspec.id}")
    guard.assert_clean()


@pytest.mark.parametrize(("live_server", "case"), _cases(DOCS_CASES), indirect=["live_server"])
def test_docs_authorize_and_execute_offline(
    live_server: Any,
    case: DocsCase,
    guarded_page: tuple[Any, PageGuard],
    request: pytest.FixtureRequest,
) -> None:
    """Swagger UI renders from local assets; Authorize + Try it out + Execute returns 200."""
    page, guard = guarded_page
    response = page.goto(f"{live_server.url}/docs")
    assert response.headers["content-security-policy"] == DOCS_CSP
    page.get_by_role("button", name="Authorize").first.click()
    page.locator("#auth-bearer-value").fill(case.token)
    page.get_by_role("button", name="Apply credentials").click()
    page.get_by_role("button", name="Remove authorization").wait_for()
    page.locator(".auth-btn-wrapper button.btn-done").click()
    operation = page.locator(f'.opblock[id$="-{case.operation_id}"]')
    operation.locator(".opblock-summary").first.click()
    operation.get_by_role("button", name="Try it out").click()
    for name, value in case.parameters.items():
        operation.locator(f'tr[data-param-name="{name}"] input').fill(value)
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table tr.response .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == case.expected_status
    screenshot(page, f"docs-{request.node.callspec.id}")
    # Not page.reload(): with deepLinking, reloading "#/default/list_tasks" makes Swagger UI log a
    # console.error deprecation about "_" in deep links.
    page.goto(f"{live_server.url}/docs")
    page.locator(".auth-wrapper .authorize.locked").wait_for()  # persistAuthorization
    guard.assert_clean()


@pytest.mark.parametrize("live_server", [real_app], indirect=True)
def test_docs_run_list_tasks_without_authorize_in_development(
    live_server: Any, guarded_page: tuple[Any, PageGuard]
) -> None:
    """In development /docs arrives authorised as the demo user: Execute works at once."""
    page, guard = guarded_page
    response = page.goto(f"{live_server.url}/docs")
    assert response.headers["content-security-policy"] == DOCS_CSP
    page.locator(".auth-wrapper .authorize.locked").wait_for()
    operation = page.locator('.opblock[id$="-listTasks"]')
    operation.locator(".opblock-summary").first.click()
    operation.get_by_role("button", name="Try it out").click()
    operation.locator('tr[data-param-name="user_id"] input').fill(DEMO_USER)
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table tr.response .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"  # 401 without the token, 403 with another user's
    assert "Authorization: Bearer eyJ" in operation.locator(".curl-command").inner_text()
    screenshot(page, "docs-preauthorized")
    guard.assert_clean()
