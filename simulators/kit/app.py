"""Assemble a simulator's Starlette app: its product routes plus the shared admin and logging."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from simulators.kit.access_log import AccessLogMiddleware, configure_json_logging
from simulators.kit.admin import admin_routes
from simulators.kit.runtime import SimRuntime
from simulators.kit.traces import TraceLog

ErrorRenderer = Callable[[Request, Exception], Awaitable[Response]]


def build_app(
    runtime: SimRuntime,
    routes: Sequence[BaseRoute],
    info: dict[str, Any],
    on_crash: ErrorRenderer,
) -> Starlette:
    """`on_crash` answers an unexpected exception the way the product would: never a stack trace."""
    configure_json_logging(runtime.service)
    traces = TraceLog()  # the `traceparent`s received, under `traces` in /_sim/stats
    runtime.stats.sections["traces"] = traces
    app = Starlette(
        routes=[*admin_routes(runtime, info), *routes],
        middleware=[Middleware(AccessLogMiddleware, service=runtime.service, traces=traces)],
        exception_handlers={Exception: on_crash},
    )
    app.state.runtime = runtime
    return app
