"""All back offices of one BFF process, as their ports: opened at start-up and closed at shutdown.

The fields are typed as `domain.ports`, not as the clients, so the loaders and resolvers depend on what
they may ask and nothing else, and a test can hand them in-memory fakes (`tests/fakes/`). Assigning the
real clients to these fields in `open` is also where mypy checks that each client satisfies its port.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
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
from domain.ports import BillingPort, CrmPort, GisPort, WorkOrdersPort

BACKENDS = ("billing", "crm", "gis", "workorders")


@dataclass
class Backends:
    """The four ports. `open` builds the real clients, which loads and validates every code table
    (fail fast); `closers` are what `aclose` shuts (a fake needs none)."""

    billing: BillingPort
    crm: CrmPort
    gis: GisPort
    workorders: WorkOrdersPort
    tracing: BackendTracing = field(default_factory=BackendTracing)  # the loaders' batch spans
    closers: tuple[Callable[[], Awaitable[None]], ...] = ()

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
        billing = BillingClient(configs["billing"], transport=t.get("billing"), telemetry=telemetry)
        crm = CrmClient(configs["crm"], transport=t.get("crm"), telemetry=telemetry)
        gis = GisClient(configs["gis"], transport=t.get("gis"), telemetry=telemetry)
        workorders = WorkOrderClient(
            configs["workorders"], transport=t.get("workorders"), telemetry=telemetry
        )
        return cls(
            billing=billing,
            crm=crm,
            gis=gis,
            workorders=workorders,
            tracing=BackendTracing(tracer),
            closers=(billing.aclose, crm.aclose, gis.aclose, workorders.aclose),
        )

    async def aclose(self) -> None:
        await asyncio.gather(*(close() for close in self.closers))
