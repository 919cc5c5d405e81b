"""`Observability`: the metrics, health checks and backend telemetry of one app, wired in one place.

`create_app` builds one from the settings and takes its routes (`/healthz`, `/readyz`, `/metrics`),
its middleware (HTTP server metrics, outermost, so a 413 from the body limit is measured too), the
telemetry it hands the backend clients and the cache, and the state each request sees
(`request.state.metrics`, which the view and the bearer-token middleware observe through).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route

from gateway.limits.admission import OPERATIONS
from gateway.observability.health import BackendStatus, Health, Phase
from gateway.observability.http_metrics import HttpServerMetrics
from gateway.observability.metric_labels import ClientNames, OperationNames
from gateway.observability.metrics import Metrics
from gateway.observability.metrics_endpoint import MetricsEndpoint
from gateway.settings import Settings
from infra.telemetry import BackendTelemetry, Fanout


@dataclass
class Observability:
    metrics: Metrics | None  # None: TIDEGATE_METRICS=false
    health: Health
    telemetry: BackendTelemetry
    metrics_token: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings, persisted_names: Iterable[str] = ()) -> Observability:
        """`persisted_names`: the manifest's operation names, always kept as metric labels."""
        status = BackendStatus()
        health = Health(status, redis_timeout_s=settings.observability.readyz_redis_timeout_ms / 1000)
        if not settings.observability.metrics:
            return cls(None, health, status)
        known = set(persisted_names) | set(OPERATIONS)
        metrics = Metrics(
            OperationNames(known, settings.observability.metrics_max_operation_names),
            ClientNames(settings.auth.clients),
        )
        return cls(metrics, health, Fanout(metrics, status), settings.observability.metrics_token)

    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = [
            Route("/healthz", self.health.healthz, methods=["GET"], name="healthz"),
            Route("/readyz", self.health.readyz, methods=["GET"], name="readyz"),
        ]
        if self.metrics is not None:
            endpoint = MetricsEndpoint(self.metrics, self.metrics_token)
            routes.append(Route("/metrics", endpoint.handle, methods=["GET"], name="metrics"))
        return routes

    def middleware(self) -> list[Middleware]:
        return [] if self.metrics is None else [Middleware(HttpServerMetrics, metrics=self.metrics)]

    def state(self) -> dict[str, Any]:
        return {"metrics": self.metrics}

    def serving(self) -> None:
        self.health.phase = Phase.SERVING

    def stopping(self) -> None:
        self.health.phase = Phase.STOPPING
