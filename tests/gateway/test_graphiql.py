"""GraphiQL works on an intranet: the page and its assets come from the BFF, no absolute URL. It is
served only in dev mode (the demo), opens with the operations in gql/ and takes a dev token."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest
from graphql import OperationDefinitionNode, parse

from gateway.app import create_app
from gateway.http.graphiql import (
    ASSETS,
    assets_installed,
    example_tabs,
    graphiql_page,
    operations_without_tab,
)
from gateway.settings import Settings
from gql import GQL_DIR
from tests.gateway.conftest import PREFLIGHT, TEST_KEYS, serve, small_schema

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
ABSOLUTE_URL = re.compile(r"(?i)\b(?:https?:)?//[a-z0-9.-]+")
TABS = re.compile(r'<script type="application/json" id="tidegate-example-operations">(.*?)</script>', re.S)
needs_assets = pytest.mark.skipif(
    not assets_installed(), reason="GraphiQL assets not installed: make install"
)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """A dev-mode BFF with GraphiQL on, as the demo runs it."""
    settings = Settings(graphiql=True, dev_mode=True)
    async with serve(create_app(settings, schema=small_schema(settings), keys=TEST_KEYS)) as c:
        yield c


async def test_a_browser_gets_the_graphiql_page(client: httpx.AsyncClient) -> None:
    r = await client.get("/graphql", headers=BROWSER)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert "<title>" in r.text


async def test_the_page_has_no_absolute_urls(client: httpx.AsyncClient) -> None:
    page = (await client.get("/graphql", headers=BROWSER)).text
    assert not ABSOLUTE_URL.search(page), ABSOLUTE_URL.findall(page)
    assert not ABSOLUTE_URL.search(graphiql_page(Path("/nonexistent")))


@needs_assets
async def test_the_page_loads_every_asset_from_the_bff(client: httpx.AsyncClient) -> None:
    page = (await client.get("/graphql", headers=BROWSER)).text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sorted(Path(s).name for s in sources) == sorted(ASSETS)
    for source in sources:
        asset = await client.get(f"/{source}")  # relative to /graphql
        assert asset.status_code == 200, source
        assert len(asset.content) > 1_000


@needs_assets
def _operation_name(text: str) -> str | None:
    (operation,) = [d for d in parse(text).definitions if isinstance(d, OperationDefinitionNode)]
    return operation.name.value if operation.name else None


async def test_the_page_opens_with_every_gql_operation_as_a_tab(client: httpx.AsyncClient) -> None:
    page = (await client.get("/graphql", headers=BROWSER)).text
    (data,) = TABS.findall(page)
    assert "<" not in data  # JSON-escaped: no operation text can close the script element
    tabs = orjson.loads(data)
    files = sorted(GQL_DIR.glob("*.graphql"))
    untabbed = operations_without_tab()  # they act on an agent's live call (docs/identification.md)
    assert untabbed == {
        "CallerMatch",
        "IdentificationCandidates",
        "VerifyCaller",
        "BindCaller",
        "WorkbenchCall",
        "WorkbenchPop",
        "WorkbenchTicket",
        "RevealCustomerPii",
    }
    texts = [f.read_text(encoding="utf-8") for f in files]
    expected = [t for t in texts if _operation_name(t) not in untabbed]
    assert [t["query"] for t in tabs] == expected and len(expected) == len(texts) - len(untabbed)
    screen_pop = next(t for t in tabs if "query ScreenPop" in t["query"])
    assert orjson.loads(screen_pop["variables"]) == {"phone": "17059363305"}  # gql/examples.json
    assert "defaultTabs" in page


@needs_assets
async def test_the_page_has_a_dev_token_field_that_becomes_the_authorization_header(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/graphql", headers=BROWSER)).text
    assert 'id="tidegate-token"' in page
    assert 'headers: token ? { Authorization: "Bearer " + token }' in page
    assert 'wsConnectionParams: token ? { Authorization: "Bearer " + token }' in page
    assert "subscriptionUrl:" in page


def test_example_tabs_skip_what_does_not_parse(tmp_path: Path) -> None:
    (tmp_path / "a.graphql").write_text("query A($x: Int, $y: String) { a }", encoding="utf-8")
    (tmp_path / "b.graphql").write_text("query {", encoding="utf-8")
    assert example_tabs(tmp_path) == (
        {"query": "query A($x: Int, $y: String) { a }", "variables": '{\n  "x": null,\n  "y": null\n}'},
    )


@needs_assets
async def test_static_asset_is_served(client: httpx.AsyncClient) -> None:
    r = await client.get("/graphiql/graphiql.min.js")
    assert r.status_code == 200
    assert "javascript" in r.headers["content-type"]


async def test_missing_asset_is_a_coded_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/graphiql/nothing.js")
    assert r.status_code == 404
    assert r.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_without_assets_the_page_says_to_run_make_install(tmp_path: Path) -> None:
    page = graphiql_page(tmp_path)
    assert "make install" in page
    assert "<script" not in page


@pytest.mark.parametrize("accept", ["*/*", "application/json", ""])
async def test_non_browsers_get_json_not_html(client: httpx.AsyncClient, accept: str) -> None:
    # Strawberry would answer `*/*` (curl's default) with the IDE page.
    r = await client.get("/graphql", headers={"accept": accept, **PREFLIGHT})
    assert r.status_code == 400
    assert r.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param(Settings(), id="default"),
        pytest.param(Settings(graphiql=True), id="graphiql-without-dev-mode"),
        pytest.param(Settings(graphiql=False, dev_mode=True), id="dev-mode-without-graphiql"),
    ],
)
async def test_outside_dev_mode_a_browser_gets_a_coded_404(settings: Settings) -> None:
    async with serve(create_app(settings, schema=small_schema(settings), keys=TEST_KEYS), headers={}) as c:
        r = await c.get("/graphql", headers=BROWSER)  # no token needed to learn that
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/json"
    ((error,),) = [r.json()["errors"]]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert "dev mode" in error["message"]
