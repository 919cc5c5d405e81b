"""GraphiQL works on an intranet: the page and its assets come from the BFF, no absolute URL."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app
from gateway.graphiql import ASSETS, assets_installed, graphiql_page
from gateway.settings import Settings
from tests.gateway.conftest import TEST_KEYS, serve, small_schema

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
ABSOLUTE_URL = re.compile(r"(?i)\b(?:https?:)?//[a-z0-9.-]+")
needs_assets = pytest.mark.skipif(
    not assets_installed(), reason="GraphiQL assets not installed: make install"
)


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
    r = await client.get("/graphql", headers={"accept": accept})
    assert r.status_code == 400
    assert r.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_graphiql_can_be_switched_off() -> None:
    settings = Settings(graphiql=False)
    async with serve(create_app(settings, schema=small_schema(settings), keys=TEST_KEYS)) as client:
        r = await client.get("/graphql", headers=BROWSER)
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/json"
