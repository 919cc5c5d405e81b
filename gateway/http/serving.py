"""`run`: how a built app is served in production, one place for `tidegate serve` and the benchmarks
that must measure the same serving path."""

from __future__ import annotations

import errno
import os
import socket

import uvicorn
from starlette.applications import Starlette

from gateway.observability.heap import freeze_startup_heap
from gateway.settings import Settings


def bind_problem(host: str, port: int) -> str | None:
    """Why uvicorn could not listen on `host:port` (None: it can), tried as uvicorn binds: with
    `SO_REUSEADDR`, so a port whose last connections sit in TIME_WAIT reads as free, as it is. Port 0
    (any free one) is not checked. Checked before the app is built, not after "startup complete"."""
    if port == 0:
        return None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        reason = "the port is in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        return f"cannot listen on {host}:{port}: {reason}"
    return None


def run(app: Starlette, settings: Settings) -> None:
    """Serve `app` until stopped: the start-up heap frozen, one uvicorn worker, no access log."""
    # The schema and code tables are never garbage, and a request's objects die with it: short GC pauses.
    freeze_startup_heap(settings.serving.gc_young_threshold)
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
