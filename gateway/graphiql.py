"""GraphiQL that works with no internet: the page and every asset come from the BFF.

Strawberry's own page loads React and GraphiQL from a public CDN, which the contact centre's
intranet cannot reach. `make install` fetches pinned builds from npm into `static/vendor/`;
without them the page says so instead of falling back to a CDN.
"""

from __future__ import annotations

from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
VENDOR = STATIC / "vendor"
ASSETS = (
    "graphiql.min.js",
    "graphiql.min.css",
    "react.production.min.js",
    "react-dom.production.min.js",
)
# Belt and braces: even an edited page cannot pull anything from another origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)

_MISSING = """<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>Tidegate · GraphiQL not installed</title></head>
  <body>
    <h1>GraphiQL is not installed</h1>
    <p>The BFF serves GraphiQL's files itself and they are missing from
    <code>gateway/static/vendor/</code>. Run <code>make install</code> once (it needs npm and
    access to the npm registry), then reload this page.</p>
    <p>The GraphQL endpoint works without it: POST JSON to this URL.</p>
  </body>
</html>
"""


def assets_installed(vendor: Path = VENDOR) -> bool:
    return all((vendor / name).is_file() for name in ASSETS)


def graphiql_page(vendor: Path = VENDOR) -> str:
    """The offline GraphiQL page, or a page saying how to install it. Read per call: cheap,
    and a `make install` while the BFF runs takes effect on the next reload."""
    if not assets_installed(vendor):
        return _MISSING
    return (STATIC / "graphiql.html").read_text(encoding="utf-8")


def graphiql_response(vendor: Path = VENDOR) -> HTMLResponse:
    return HTMLResponse(
        graphiql_page(vendor),
        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"},
    )


def graphiql_assets(vendor: Path = VENDOR) -> StaticFiles:
    """The vendored files under `/graphiql/`; `check_dir=False` so a missing install is a 404,
    not a start-up failure."""
    return StaticFiles(directory=vendor, check_dir=False)
