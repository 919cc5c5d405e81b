"""`run`: how a built app is served in production, one place for `tidegate serve` and the benchmarks
that must measure the same serving path."""

from __future__ import annotations

import os

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
        timeout_graceful_shutdown=settings.serving.shutdown_timeout_s,
    )


def run_workers(settings: Settings, overrides: dict[str, str]) -> None:
    """`settings.serving.workers` processes on one socket (uvicorn's supervisor restarts a worker
    that dies). Each builds its app from the environment (`gateway.app.app_from_environment`), so
    the command line's overrides travel as `TIDEGATE_*` variables; each is a replica of the fleet."""
    os.environ.update(overrides)
    uvicorn.run(
        "gateway.app:app_from_environment",
        factory=True,
        host=settings.serving.host,
        port=settings.serving.port,
        loop="auto",
        http="auto",
        workers=settings.serving.workers,
        lifespan="on",
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=settings.serving.shutdown_timeout_s,
    )
