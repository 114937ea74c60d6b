"""Developer pages (GraphiQL at /graphql, Swagger UI at /docs) served entirely from our origin.

Third-party assets are vendored into ``app/static/vendor/`` by ``web/build.sh`` from the npm
packages pinned in ``web/package-lock.json``; nothing is loaded from a CDN.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_URL = "/static"
VENDOR_URL = f"{STATIC_URL}/vendor"
OWN_URL = f"{STATIC_URL}/devpages"

_BASE_CSP = (
    "default-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)

# GraphiQL's Radix dialogs (settings, shortcuts) inject a <style> element via
# react-remove-scroll; that needs 'unsafe-inline' for style *elements* only. Scripts stay 'self'.
GRAPHIQL_CSP = "; ".join(
    (*_BASE_CSP, "script-src 'self'", "style-src 'self'", "style-src-elem 'self' 'unsafe-inline'")
)

_GRAPHIQL_TEMPLATE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>GraphiQL</title>
    <link rel="icon" href="{own}/favicon.svg" />
    <link rel="stylesheet" href="{vendor}/graphiql/graphiql.min.css" />
    <link rel="stylesheet" href="{vendor}/graphiql-plugin-explorer/style.css" />
    <link rel="stylesheet" href="{own}/graphiql.css" />
  </head>
  <body>
    <div id="graphiql" class="graphiql-container">Loading...</div>
    <script type="application/json" id="graphiql-config">{config}</script>
    <script src="{vendor}/react/react.production.min.js"></script>
    <script src="{vendor}/react-dom/react-dom.production.min.js"></script>
    <script src="{vendor}/graphiql/graphiql.min.js"></script>
    <script src="{vendor}/graphiql-plugin-explorer/index.umd.js"></script>
    <script src="{own}/graphiql.js"></script>
  </body>
</html>
"""

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _json_for_html(value: Any) -> str:
    """Serialise ``value`` as JSON that cannot close or confuse an HTML <script> element."""
    text = json.dumps(value)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def graphiql_html(*, example_query: str, authorization: str | None) -> str:
    """Return the GraphiQL page, using only local assets and the given editor defaults."""
    headers = None
    if authorization is not None:
        headers = json.dumps({"Authorization": f"Bearer {authorization}"}, indent=2)
    config = {"exampleQuery": example_query, "headers": headers}
    return _GRAPHIQL_TEMPLATE.format(vendor=VENDOR_URL, own=OWN_URL, config=_json_for_html(config))


def graphiql_page(
    *, example_query: str, demo_token: Callable[[], str | None]
) -> Callable[[], HTMLResponse]:
    """Render GraphiQL, opening with ``example_query`` and, when there is one, the demo token."""

    def render() -> HTMLResponse:
        page = graphiql_html(example_query=example_query, authorization=demo_token())
        return HTMLResponse(page, headers=_page_headers(GRAPHIQL_CSP))

    return render


def _page_headers(csp: str) -> dict[str, str]:
    """Return the security headers shared by both developer pages."""
    return {
        "Content-Security-Policy": csp,
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }


def _script_hashes(page: str) -> str:
    """Return CSP source expressions ('sha256-…') for every inline <script> in ``page``."""
    digests = (hashlib.sha256(body.encode()).digest() for body in _INLINE_SCRIPT.findall(page))
    return " ".join(f"'sha256-{base64.b64encode(d).decode()}'" for d in digests)


def docs_csp(page: str) -> str:
    """Return the Swagger UI page CSP: 'self' plus the hash of FastAPI's inline init script."""
    return "; ".join((*_BASE_CSP, f"script-src 'self' {_script_hashes(page)}", "style-src 'self'"))


def _swagger_page(app: FastAPI) -> str:
    """Render FastAPI's Swagger UI HTML pointing at the vendored assets."""
    response = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{html.escape(app.title)} - Swagger UI",
        swagger_js_url=f"{VENDOR_URL}/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url=f"{VENDOR_URL}/swagger-ui/swagger-ui.css",
        swagger_favicon_url=f"{VENDOR_URL}/swagger-ui/favicon-32x32.png",
        swagger_ui_parameters={"persistAuthorization": True, "validatorUrl": None},
    )
    return bytes(response.body).decode()


def install_docs(app: FastAPI, docs_url: str = "/docs") -> None:
    """Mount the vendored static files and a self-hosted Swagger UI at ``docs_url``."""
    if not (STATIC_DIR / "vendor").is_dir():
        log.warning("app/static/vendor is missing: run web/build.sh for /docs and /graphql")
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")
    page = _swagger_page(app)
    headers = _page_headers(docs_csp(page))

    @app.get(docs_url, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        """Serve the self-hosted Swagger UI page."""
        return HTMLResponse(page, headers=headers)
