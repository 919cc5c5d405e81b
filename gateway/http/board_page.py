"""`GET /board`: the supervisor's board page, served by the BFF with every asset it needs.

`make board` bundles `web/board/` (TypeScript, a vendored chart library) with esbuild into
`gateway/static/board/` (git-ignored, like GraphiQL's files); `make install` runs it. The page signs
in at the local issuer and polls the `SupervisorBoard` persisted query by id, so it sends no query
text. Without the bundle: a coded 404 that says how to build it, never a CDN fallback.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from gateway.http.errors import error_response

BOARD_DIR = Path(__file__).parents[1] / "static" / "board"  # gateway/static/board
# Nothing from another origin, even from an edited page; scripts only from the bundle.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


async def board_page(_request: Request) -> Response:
    page = BOARD_DIR / "index.html"
    if not page.is_file():
        return error_response(404, "the board is not built: run `make board` (make install does)")
    return FileResponse(
        page,
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"},
    )


def board_routes() -> list[BaseRoute]:
    """The page and its bundle (`/board/assets/...`)."""
    return [
        Route("/board", board_page, methods=["GET"], name="board"),
        Mount(
            "/board/assets",
            app=StaticFiles(directory=BOARD_DIR, check_dir=False),
            name="board-assets",
        ),
    ]
