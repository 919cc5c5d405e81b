"""The adapters' one entry point: the four real back-office clients, opened behind their ports.

`domain.ports.Backends` is typed by the ports, not the clients, so services and loaders depend on what
they may ask and nothing else. Handing the real clients to it here is where mypy checks that each
client satisfies its port. The gateway (the composition root) calls this at start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

import httpx
from opentelemetry.trace import Tracer

from backends.billing.client import BillingClient
from backends.crm.client import CrmClient
from backends.gis.client import GisClient
from backends.workorders.client import WorkOrderClient
from domain.ports import Backends
from infra.http.config import BackendConfig
from infra.resilience.guards import GuardState
from infra.resilience.rate_budget import SharedRate
from infra.telemetry import NO_TELEMETRY, BackendTelemetry
from infra.tracing import BackendTracing

BACKENDS = ("billing", "crm", "gis", "workorders")


def open_backends(
    configs: Mapping[str, BackendConfig],
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    telemetry: BackendTelemetry = NO_TELEMETRY,
    tracer: Tracer | None = None,
    shared_rate: SharedRate | None = None,
) -> Backends:
    """The real adapters behind their ports. Building a client loads and validates every code table
    (fail fast). `tracer`: the app's, when tracing is on; each call then gets a span and sends
    `traceparent`. `shared_rate`: the fleet's buckets (Redis), on which every rate budget draws."""
    missing = sorted(set(BACKENDS) - set(configs))
    if missing:
        raise ValueError(f"backend configuration missing for {missing}")
    t = transports or {}
    if tracer is not None:
        configs = {name: replace(config, tracer=tracer) for name, config in configs.items()}
    if shared_rate is not None:
        configs = {name: replace(config, shared_rate=shared_rate) for name, config in configs.items()}
    billing = BillingClient(configs["billing"], transport=t.get("billing"), telemetry=telemetry)
    crm = CrmClient(configs["crm"], transport=t.get("crm"), telemetry=telemetry)
    gis = GisClient(configs["gis"], transport=t.get("gis"), telemetry=telemetry)
    workorders = WorkOrderClient(configs["workorders"], transport=t.get("workorders"), telemetry=telemetry)
    return Backends(
        billing=billing,
        crm=crm,
        gis=gis,
        workorders=workorders,
        tracing=BackendTracing(tracer),
        closers=(billing.aclose, crm.aclose, gis.aclose, workorders.aclose),
    )


def share_guards(backends: Backends, replicas: int) -> None:
    """Every real client held to its replica's part of the fleet's guards (fakes have none)."""
    for client in (backends.billing, backends.crm, backends.gis, backends.workorders):
        if isinstance(client, BillingClient | CrmClient | GisClient | WorkOrderClient):
            client.share(replicas)


def guard_readers(backends: Backends) -> dict[str, Callable[[], GuardState]]:
    """Each real client's guard snapshot, by backend name (in-memory fakes have none: left out)."""
    readers: dict[str, Callable[[], GuardState]] = {}
    if isinstance(backends.billing, BillingClient):
        readers["billing"] = backends.billing.guard_state
    if isinstance(backends.crm, CrmClient):
        readers["crm"] = backends.crm.guard_state
    if isinstance(backends.gis, GisClient):
        readers["gis"] = backends.gis.guard_state
    if isinstance(backends.workorders, WorkOrderClient):
        readers["workorders"] = backends.workorders.guard_state
    return readers
