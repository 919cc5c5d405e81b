"""`run`: how a built app is served in production, one place for `tidegate serve` and the benchmarks
that must measure the same serving path."""

from __future__ import annotations

import uvicorn
from starlette.applications import Starlette

from gateway.observability.heap import freeze_startup_heap
from gateway.settings import Settings


def run(app: Starlette, settings: Settings) -> None:
    """Serve `app` until stopped: the start-up heap frozen, one uvicorn worker, no access log."""
    freeze_startup_heap()  # the schema and code tables are never garbage: keep GC pauses short
    # One worker; "auto" picks uvloop and httptools when installed (they are, via uvicorn[standard]).
    uvicorn.run(
        app,
        host=settings.serving.host,
        port=settings.serving.port,
        loop="auto",
        http="auto",
        workers=1,
        lifespan="on",
        log_config=None,
        access_log=False,  # the app logs one line per GraphQL request itself
        server_header=False,
    )
