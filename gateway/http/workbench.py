"""The agent workbench at `GET /workbench`: a page and a bundle the BFF serves itself.

The bundle (`web/workbench`, Preact + Apollo Client + graphql-ws) is built with esbuild at install
time into `static/workbench/` (git-ignored): the contact centre has no internet, so nothing comes
from a CDN, and the page's Content-Security-Policy forbids any other origin. Without the bundle the
page says how to build it. The page carries a small JSON block of configuration: whether the demo's
sign-in and "ring me" endpoints exist (`gateway.live.demo_softphone`), and which agents to offer.
"""

from __future__ import annotations

from pathlib import Path

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parents[1] / "static"  # gateway/static
BUNDLE = STATIC / "workbench"
ASSETS = ("workbench.js", "workbench.css")
_CONFIG_MARK = "<!-- tidegate:workbench-config -->"
# Like GraphiQL's page: nothing from another origin, not even a font; the websocket goes to this
# origin only ('self' covers ws: on the same host since CSP level 3).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_MISSING = """<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>Tidegate · workbench not built</title></head>
  <body>
    <h1>The workbench is not built</h1>
    <p>The BFF serves the workbench's bundle itself and it is missing from
    <code>gateway/static/workbench/</code>. Run <code>make install</code> once (it needs npm), then
    reload this page.</p>
  </body>
</html>
"""


def bundle_built(bundle: Path = BUNDLE) -> bool:
    return all((bundle / name).is_file() for name in ASSETS)


def workbench_page(config: dict[str, object], bundle: Path = BUNDLE) -> str:
    """The page with its configuration block (escaped so no value can end the script element)."""
    if not bundle_built(bundle):
        return _MISSING
    data = orjson.dumps(config).decode()
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        data = data.replace(char, escape)
    block = f'<script type="application/json" id="tidegate-workbench-config">{data}</script>'
    return (STATIC / "workbench.html").read_text(encoding="utf-8").replace(_CONFIG_MARK, block)


def workbench_routes(config: dict[str, object], bundle: Path = BUNDLE) -> list[BaseRoute]:
    """`GET /workbench` (the page, read per request: a rebuild shows on reload) and its assets."""

    async def page(_request: Request) -> Response:
        return HTMLResponse(workbench_page(config, bundle), headers=HEADERS)

    return [
        Route("/workbench", page, methods=["GET"], name="workbench"),
        Mount(
            "/workbench/assets", app=StaticFiles(directory=bundle, check_dir=False), name="workbench-assets"
        ),
    ]
