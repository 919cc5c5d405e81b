"""`GET /board`: the bundled page with a strict CSP, its assets, and a coded 503 when not built."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from gateway.http import board_page
from gateway.http.board_page import board_routes


async def get(path: str) -> httpx.Response:
    app = Starlette(routes=board_routes())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.get(path)


async def test_the_board_page_and_its_bundle_are_served_from_this_origin_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "index.html").write_text('<script src="/board/assets/board.js"></script>', encoding="utf-8")
    (tmp_path / "board.js").write_text("void 0;", encoding="utf-8")
    monkeypatch.setattr(board_page, "BOARD_DIR", tmp_path)
    page = await get("/board")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp and "unsafe-inline" not in csp
    assert "/board/assets/board.js" in page.text
    assert (await get("/board/assets/board.js")).text == "void 0;"


async def test_an_unbuilt_board_says_how_to_build_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(board_page, "BOARD_DIR", tmp_path / "missing")
    page = await get("/board")
    assert page.status_code == 404
    (error,) = page.json()["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND" and "make board" in error["message"]
