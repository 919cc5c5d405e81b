"""The workbench page and its demo endpoints: the page is served from the BFF with a strict CSP; the
demo's sign-in and "ring me" exist only with the embedded issuer, never with production settings."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import orjson
import pytest

from gateway.app import create_app
from gateway.http.workbench import workbench_page
from gateway.settings import Settings
from tests.gateway.conftest import TEST_KEYS, serve, small_schema

DEMO_PATHS = ("/workbench/demo/token", "/workbench/demo/cti")


async def test_production_settings_have_no_workbench_demo_endpoints() -> None:
    """Production: tokens from the utility's IdP (here a fixed key set), the real CTI, no local issuer."""
    settings = Settings(cti_secrets="a-real-cti-secret")
    assert not settings.auth.local_issuer
    async with serve(create_app(settings, schema=small_schema(settings), keys=TEST_KEYS)) as client:
        for path in DEMO_PATHS:
            r = await client.post(path, json={"agentId": "A1001", "event": "CALL_RINGING", "customerNo": "2"})
            assert r.status_code == 404, path
        page = await client.get("/workbench")
        assert page.status_code == 200
        assert '"demo":true' not in page.text


async def test_the_demo_issuer_signs_an_agent_in_from_the_workbench(tmp_path: Path) -> None:
    settings = Settings(
        local_issuer=True, local_issuer_key_path=tmp_path / "key.pem", cti_secrets="demo-cti-secret"
    )
    async with serve(create_app(settings, schema=small_schema(settings))) as client:
        r = await client.post("/workbench/demo/token", json={"agentId": "A1002"})
        assert r.status_code == 200
        body = r.json()
        assert body["token_type"] == "Bearer" and body["expires_in"] == settings.auth.token_ttl_s
        assert r.headers["cache-control"] == "no-store"
        claims = orjson.loads(_segment(body["access_token"]))
        assert (claims["role"], claims["agent_id"], claims["client_id"]) == ("agent", "A1002", "workbench")
        bad = await client.post("/workbench/demo/token", json={"agentId": "A 1002; drop"})
        assert bad.status_code == 400 and bad.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        refused = await client.post("/workbench/demo/cti", json={"event": "CALL_PARKED", "agentId": "A1002"})
        assert refused.status_code == 400


def _segment(token: str) -> bytes:
    payload = token.split(".")[1]
    return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))


@pytest.mark.parametrize("hostile", ["</script><script>alert(1)</script>", "&<>"])
def test_the_page_config_cannot_end_its_script_element(hostile: str, tmp_path: Path) -> None:
    for name in ("workbench.js", "workbench.css"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    page = workbench_page({"demo": True, "agents": [hostile]}, tmp_path)
    assert hostile not in page and page.count("</script>") == 2


def test_without_the_bundle_the_page_says_how_to_build_it(tmp_path: Path) -> None:
    page = workbench_page({"demo": False}, tmp_path)
    assert "make install" in page and "<script" not in page


async def test_the_page_is_served_with_the_workbench_csp() -> None:
    settings = Settings()
    async with serve(create_app(settings, schema=small_schema(settings), keys=TEST_KEYS)) as client:
        r = await client.get("/workbench")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert isinstance(r, httpx.Response)
