"""Developer pages (GraphiQL at /graphql, Swagger UI at /docs) served entirely from our origin.

Third-party assets are vendored into ``app/static/vendor/`` by ``web/build.sh`` from the npm
packages pinned in ``web/package-lock.json``; nothing is loaded from a CDN.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
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
DOCS_CSP = "; ".join((*_BASE_CSP, "script-src 'self'", "style-src 'self'"))

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


_SWAGGER_TEMPLATE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1.0" />
    <title>{title}</title>
    <link rel="icon" href="{vendor}/swagger-ui/favicon-32x32.png" />
    <link rel="stylesheet" href="{vendor}/swagger-ui/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script type="application/json" id="swagger-config">{config}</script>
    <script src="{vendor}/swagger-ui/swagger-ui-bundle.js"></script>
    <script src="{own}/swagger.js"></script>
  </body>
</html>
"""


def swagger_html(*, title: str, openapi_url: str, authorization: str | None) -> str:
    """Return the Swagger UI page; with ``authorization``, its bearer schemes start authorised."""
    config = {
        "url": openapi_url, "deepLinking": True, "showExtensions": True,
        "showCommonExtensions": True, "persistAuthorization": True, "validatorUrl": None,
        "bearerToken": authorization,
    }
    return _SWAGGER_TEMPLATE.format(title=html.escape(title), vendor=VENDOR_URL, own=OWN_URL,
                                    config=_json_for_html(config))


def install_docs(app: FastAPI, docs_url: str = "/docs", *,
                 demo_token: Callable[[], str | None] = lambda: None) -> None:
    """Mount the vendored static files and a self-hosted Swagger UI at ``docs_url``.

    ``demo_token`` gives the bearer token the page starts authorised with (a fresh one per page
    view), or None for a page the developer authorises by hand.
    """
    if not (STATIC_DIR / "vendor").is_dir():
        log.warning("app/static/vendor is missing: run web/build.sh for /docs and /graphql")
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")
    title = f"{app.title} - Swagger UI"
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get(docs_url, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        """Serve the self-hosted Swagger UI page."""
        page = swagger_html(title=title, openapi_url=openapi_url,
                            authorization=demo_token())
        return HTMLResponse(page, headers=_page_headers(DOCS_CSP))
