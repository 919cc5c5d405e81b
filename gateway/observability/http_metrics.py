"""`HttpServerMetrics`: OpenTelemetry's HTTP server metrics for every route of the BFF.

A pure ASGI middleware (no `BaseHTTPMiddleware`: that one runs the app in a task of its own and
buffers its body). It labels each request with its route template (`/graphql`, `/graphiql`), never
the raw path, so a scan of made-up URLs adds no series: a path no route matches is `other`.
Websockets are not HTTP requests here (they last for hours): only `http` scopes are measured.
"""

from __future__ import annotations

import time
from typing import Final

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.observability.metrics import Metrics

OTHER_ROUTE: Final = "other"
# OpenTelemetry's known methods; anything else is `_OTHER`.
METHODS: Final = frozenset({"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"})


# Route templates kept per (root path, path, method): a request's template is a function of those
# alone (routes match on the path and the method), and matching walks the app's routes one regular
# expression at a time. Only paths a route takes are kept (a made-up URL, which may carry anything,
# is matched each time it comes); bounded all the same, for a mount's many paths.
MAX_KEPT_TEMPLATES: Final = 1024


class HttpServerMetrics:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self._templates: dict[tuple[str, str, str], str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"] if scope["method"] in METHODS else "_OTHER"
        route = self._template(scope)
        status = 500  # unless the app starts a response: an exception escaped it
        active = (method, route)
        metrics = self.metrics
        started = time.perf_counter()

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        metrics.http_server_active.add(active, 1)
        try:
            await self.app(scope, receive, send_with_status)
        finally:
            metrics.http_server_active.add(active, -1)
            metrics.http_server_duration.observe((method, route, str(status)), time.perf_counter() - started)

    def _template(self, scope: Scope) -> str:
        """`route_template(scope)`, matched once per (root path, path, method) of this app."""
        key = (scope.get("root_path", ""), scope["path"], scope["method"])
        found = self._templates.get(key)
        if found is None:
            if len(self._templates) >= MAX_KEPT_TEMPLATES:
                self._templates.clear()
            found = route_template(scope)
            if found != OTHER_ROUTE:
                self._templates[key] = found
        return found


def route_template(scope: Scope) -> str:
    """The path template of the app's route that takes this request (a wrong method still names it)."""
    app = scope.get("app")
    routes: list[BaseRoute] = getattr(app, "routes", [])
    partial: str | None = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return str(getattr(route, "path", OTHER_ROUTE)) or "/"
        if match is Match.PARTIAL and partial is None:
            partial = str(getattr(route, "path", OTHER_ROUTE))
    return partial or OTHER_ROUTE
