"""The network graph is built once per GIS adapter and kept: one build for concurrent requests, a
rebuild after the TTL, the old graph kept when a rebuild fails (narrow: in-memory GIS, tiny network)."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from domain.ports import Backends
from infra.errors import BackendServerError
from services import isolation
from services.access import Access
from services.context import build_context
from tests.fakes.gis import InMemoryGis
from tests.schema.fake_backends import FakeBackends
from tests.services.conftest import SUPERVISOR
from tests.support.tiny_network import CONNECTIONS, MAINS, SOURCES, VALVES


class FlakyGis(InMemoryGis):
    """Fails every `valves` page while `down` is set."""

    down: bool = False

    async def valves(self, offset: int, limit: int):  # type: ignore[no-untyped-def]
        if self.down:
            raise BackendServerError("gis", "HTTP 503", vendor_code="503")
        return await super().valves(offset, limit)


def _backends(gis: InMemoryGis) -> Backends:
    return dataclasses.replace(FakeBackends().backends(), gis=gis)


def _gis() -> FlakyGis:
    return FlakyGis(
        connections=dict(CONNECTIONS), network=list(MAINS), valve_list=list(VALVES), sources=list(SOURCES)
    )


async def test_concurrent_plans_share_one_build_and_later_ones_reuse_it() -> None:
    gis = _gis()
    backends = _backends(gis)
    plans = await asyncio.gather(
        *(
            isolation.isolation_plan(build_context(backends, access=Access(SUPERVISOR)), "GS-000020")
            for _ in range(5)
        )
    )
    assert {p.trace.isolated_main_ids for p in plans} == {(20, 30)}
    assert plans[0].accounts == ("0010000002", "0010000003", "0010000004", "0010000005")
    again = await isolation.isolation_plan(build_context(backends, access=Access(SUPERVISOR)), "30")
    assert again.trace.isolated_main_ids == (20, 30)  # by object id too
    assert gis.log.count("network_mains") == gis.log.count("valves") == gis.log.count("water_sources") == 1


async def test_after_the_ttl_it_rebuilds_and_a_failed_rebuild_keeps_the_old_graph(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gis = _gis()
    ctx = build_context(_backends(gis), access=Access(SUPERVISOR))
    await isolation.isolation_plan(ctx, "GS-000020")
    kept = isolation._graphs.of(gis)
    monkeypatch.setattr(kept, "built_at", kept.built_at - isolation.GRAPH_TTL_S - 1)
    gis.down = True
    plan = await isolation.isolation_plan(ctx, "GS-000020")  # the rebuild failed: the old graph answers
    assert plan.trace.isolated_main_ids == (20, 30)
    assert gis.log.count("network_mains") == 2
    gis.down = False
    monkeypatch.setattr(kept, "built_at", kept.built_at - isolation.GRAPH_TTL_S - 1)
    await isolation.isolation_plan(ctx, "GS-000020")
    assert gis.log.count("network_mains") == 3


async def test_a_first_build_that_fails_is_a_coded_backend_error() -> None:
    gis = _gis()
    gis.down = True
    ctx = build_context(_backends(gis), access=Access(SUPERVISOR))
    with pytest.raises(Exception) as raised:
        await isolation.isolation_plan(ctx, "GS-000020")
    assert getattr(raised.value, "extensions", {}).get("code") == "BACKEND_ERROR"
