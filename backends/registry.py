"""All backend clients of one BFF process, opened at start-up and closed at shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import httpx
from opentelemetry.trace import Tracer

from backends.billing.client import BillingClient
from backends.config import BackendConfig
from backends.crm.client import CrmClient
from backends.gis.client import GisClient
from backends.telemetry import NO_TELEMETRY, BackendTelemetry
from backends.tracing import BackendTracing
from backends.workorders.client import WorkOrderClient

BACKENDS = ("billing", "crm", "gis", "workorders")


@dataclass
class Backends:
    """The four clients. Constructing them loads and validates every code table (fail fast)."""

    billing: BillingClient
    crm: CrmClient
    gis: GisClient
    workorders: WorkOrderClient
    tracing: BackendTracing = field(default_factory=BackendTracing)  # the loaders' batch spans

    @classmethod
    def open(
        cls,
        configs: Mapping[str, BackendConfig],
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
        telemetry: BackendTelemetry = NO_TELEMETRY,
        tracer: Tracer | None = None,
    ) -> Backends:
        """`tracer`: the app's, when tracing is on; each call then gets a span and sends `traceparent`."""
        missing = sorted(set(BACKENDS) - set(configs))
        if missing:
            raise ValueError(f"backend configuration missing for {missing}")
        t = transports or {}
        if tracer is not None:
            configs = {name: replace(config, tracer=tracer) for name, config in configs.items()}
        return cls(
            billing=BillingClient(configs["billing"], transport=t.get("billing"), telemetry=telemetry),
            crm=CrmClient(configs["crm"], transport=t.get("crm"), telemetry=telemetry),
            gis=GisClient(configs["gis"], transport=t.get("gis"), telemetry=telemetry),
            workorders=WorkOrderClient(
                configs["workorders"], transport=t.get("workorders"), telemetry=telemetry
            ),
            tracing=BackendTracing(tracer),
        )

    async def aclose(self) -> None:
        await asyncio.gather(
            self.billing.aclose(), self.crm.aclose(), self.gis.aclose(), self.workorders.aclose()
        )
