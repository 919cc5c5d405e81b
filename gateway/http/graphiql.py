"""GraphiQL that works with no internet: the page and every asset come from the BFF.

Strawberry's own page loads React and GraphiQL from a public CDN, which the contact centre's
intranet cannot reach. `make install` fetches pinned builds from npm into `static/vendor/`;
without them the page says so instead of falling back to a CDN.

Served only in dev mode (`TIDEGATE_GRAPHIQL=true` with `TIDEGATE_DEV_MODE=true`; the demo sets both):
it needs introspection, which production refuses, and a production BFF has no use for a playground.
Otherwise a browser's page request gets a coded 404. The page opens with one tab per operation in
`gql/` (the softphone's and workbench's own documents, with working variables from
`gql/examples.json`) and a field for the dev token, which every request it sends then carries as
`Authorization: Bearer ...`; subscriptions run over graphql-transport-ws on the same path, the token
in `connection_init`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import orjson
from graphql import GraphQLError, OperationDefinitionNode, parse
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from gateway.http.errors import error_response
from gql import GQL_DIR
from services.errors import ErrorCode

STATIC = Path(__file__).parents[1] / "static"  # gateway/static
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


_TABS_MARK = "<!-- tidegate:example-operations -->"


def is_page_request(method: str, params: Mapping[str, str], headers: Mapping[str, str]) -> bool:
    """A browser asking for the page: a GET with `Accept: text/html` and nothing to run (no `query`,
    no persisted query id). Shared by the view and `BearerAuth`, which lets exactly these through."""
    return (
        method == "GET"
        and not any(params.get(name) for name in ("query", "extensions", "documentId"))
        and "text/html" in headers.get("accept", "")
    )


def example_variables(directory: Path = GQL_DIR) -> dict[str, dict[str, object]]:
    """Working variables per operation name from `gql/examples.json`: a caller and an account that
    exist in the demo's seeded world, so a tab runs as it opens (a test runs each against the demo)."""
    path = directory / "examples.json"
    if not path.is_file():
        return {}
    data = orjson.loads(path.read_bytes())
    return {name: value for name, value in data.items() if isinstance(value, dict)}


def operations_without_tab(directory: Path = GQL_DIR) -> frozenset[str]:
    """Operations `gql/examples.json` lists under `_noTab`: they act on the signed-in agent's live
    call (identifying its caller), so no example can run as the page opens."""
    path = directory / "examples.json"
    if not path.is_file():
        return frozenset()
    listed = orjson.loads(path.read_bytes()).get("_noTab", [])
    return frozenset(name for name in listed if isinstance(name, str))


@lru_cache(maxsize=4)
def example_tabs(directory: Path = GQL_DIR) -> tuple[dict[str, str], ...]:
    """GraphiQL's `defaultTabs`: one per `gql/*.graphql` file, with its example variables (nulls
    where `gql/examples.json` has none). Read and parsed once per process (the operations ship with
    the code), not on every page load."""
    examples = example_variables(directory)
    skipped = operations_without_tab(directory)
    tabs = []
    for path in sorted(directory.glob("*.graphql")):
        text = path.read_text(encoding="utf-8")
        try:
            document = parse(text, no_location=True)
        except GraphQLError:
            continue
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if any(d.name and d.name.value in skipped for d in operations):
            continue
        names = [v.variable.name.value for d in operations for v in d.variable_definitions or ()]
        example = next(
            (examples[d.name.value] for d in operations if d.name and d.name.value in examples), {}
        )
        values = {name: example.get(name) for name in names}
        variables = orjson.dumps(values, option=orjson.OPT_INDENT_2).decode()
        tabs.append({"query": text, "variables": variables})
    return tuple(tabs)


def _with_tabs(page: str, tabs: tuple[dict[str, str], ...]) -> str:
    """The tabs as a JSON data block the page's script reads. `<`, `>` and `&` are JSON escapes
    there (a script element's text is raw: no `</script>` in an operation can end it early)."""
    data = orjson.dumps(tabs).decode()
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        data = data.replace(char, escape)
    block = f'<script type="application/json" id="tidegate-example-operations">{data}</script>'
    return page.replace(_TABS_MARK, block)


def assets_installed(vendor: Path = VENDOR) -> bool:
    return all((vendor / name).is_file() for name in ASSETS)


def graphiql_page(vendor: Path = VENDOR) -> str:
    """The offline GraphiQL page, or a page saying how to install it. Read per call: cheap,
    and a `make install` while the BFF runs takes effect on the next reload."""
    if not assets_installed(vendor):
        return _MISSING
    return _with_tabs((STATIC / "graphiql.html").read_text(encoding="utf-8"), example_tabs())


def graphiql_response(vendor: Path = VENDOR) -> HTMLResponse:
    return HTMLResponse(
        graphiql_page(vendor),
        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"},
    )


def graphiql_disabled() -> Response:
    return error_response(
        404,
        "GraphiQL is served only in dev mode (TIDEGATE_GRAPHIQL=true and TIDEGATE_DEV_MODE=true, as "
        "in the demo); POST GraphQL requests to this URL",
        ErrorCode.NOT_FOUND,
    )


def graphiql_assets(vendor: Path = VENDOR) -> StaticFiles:
    """The vendored files under `/graphiql/`; `check_dir=False` so a missing install is a 404,
    not a start-up failure."""
    return StaticFiles(directory=vendor, check_dir=False)
