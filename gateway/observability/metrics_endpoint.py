"""`GET /metrics`: the app's registry in Prometheus' text format.

Served on the BFF's own port, beside the API. The series hold no personal data (bounded labels,
see `gateway.observability.metrics`), but they do describe the traffic and the back offices' health, so they
are for the monitoring network only: keep `/metrics` off the public ingress (a network policy or
the ingress' path rules), or set `TIDEGATE_METRICS_TOKEN` and give Prometheus the same bearer
token (`authorization: {credentials: ...}` in the scrape config). Without a token it is open, like
`/healthz`.
"""

from __future__ import annotations

import hmac

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response

from gateway.http.errors import error_response
from gateway.observability.metrics import Metrics


class MetricsEndpoint:
    def __init__(self, metrics: Metrics, token: str | None = None) -> None:
        self.metrics = metrics
        self._expected = f"Bearer {token}".encode() if token else None

    async def handle(self, request: Request) -> Response:
        if self._expected is not None:
            sent = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(sent, self._expected):
                return error_response(
                    401,
                    "Send the metrics token: Authorization: Bearer <token>",
                    "UNAUTHENTICATED",
                    {"WWW-Authenticate": "Bearer"},
                )
        return Response(self.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
