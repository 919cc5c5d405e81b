"""Records survive the cache's round trip exactly; sealed entries open only with their key and kind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest

from backends.registry import BACKENDS, open_backends
from domain.ports import Backends
from domain.records import Account, Bill, Outage, PipeSegment, ServiceConnection, Ticket
from infra import codec
from infra.http.config import BackendConfig
from infra.sealed import Sealer, SealError
from tests.conftest import Simulators
from tests.support.world import seeded_world


@pytest.fixture
async def backends(clean_sims: Simulators) -> AsyncIterator[Backends]:
    opened = open_backends({n: BackendConfig(n, clean_sims[n].url, timeout_s=5.0) for n in BACKENDS})
    try:
        yield opened
    finally:
        await opened.aclose()


def _round_trip(kind: Any, value: Any) -> Any:
    return codec.decode(kind, orjson.loads(orjson.dumps(codec.encode(value))))


async def test_real_records_round_trip_exactly(backends: Backends) -> None:
    world = seeded_world()
    numbers = [a.account_no for a in world.accounts[:50]]
    accounts = await backends.billing.accounts(numbers)
    bills = await backends.billing.bills(numbers[0], 12)
    outages = await backends.gis.outages(None)
    connections = await backends.gis.service_connections(numbers)
    segments = await backends.gis.segments_by_object_id(list(range(1, 40)))
    customer_no = f"KH{world.accounts[0].customer_no:08d}"
    tickets = (await backends.workorders.tickets_by_customers([customer_no]))[customer_no]
    cases: list[tuple[Any, Any]] = [
        *((Account, a) for a in accounts.values()),
        (list[Bill], bills),
        (list[Outage], outages),
        *((ServiceConnection, c) for c in connections.values()),
        *((PipeSegment, s) for s in segments.values()),
        (list[Ticket], tickets),
    ]
    assert len(accounts) == 50 and bills and outages and connections and segments
    for kind, value in cases:
        assert _round_trip(kind, value) == value


def test_offsets_survive_including_chinas_summer_time() -> None:
    summer_1988 = datetime(1988, 7, 1, 9, 0, tzinfo=timezone(timedelta(hours=9)))
    assert _round_trip(datetime, summer_1988).utcoffset() == timedelta(hours=9)
    assert _round_trip(date | None, None) is None
    with pytest.raises(ValueError, match="naive"):
        codec.encode(datetime(2026, 1, 1))
    assert _round_trip(datetime, datetime(2026, 1, 1, tzinfo=UTC)).tzinfo is not None


def test_a_shape_from_another_deploy_is_refused() -> None:
    with pytest.raises(ValueError):
        codec.decode(ServiceConnection, {"account_no": "0000000001"})  # fields missing
    with pytest.raises(ValueError):
        codec.decode(int, "7")


def test_sealed_values_open_only_with_the_same_key_and_kind() -> None:
    sealer = Sealer()
    payload = {"mobile": "13800138000", "id_card": "110101199003074514"}
    sealed = sealer.seal("billing:account:v1:", payload)
    assert isinstance(sealed, str) and "13800138000" not in sealed
    assert sealer.open("billing:account:v1:", sealed) == payload
    with pytest.raises(SealError):
        sealer.open("gis:connection:v1:", sealed)  # copied under another kind
    with pytest.raises(SealError):
        Sealer().open("billing:account:v1:", sealed)  # another replica's key
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(SealError):
        sealer.open("billing:account:v1:", tampered)


def test_the_key_setting_is_32_bytes_of_base64() -> None:
    shared = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80="
    a, b = Sealer.from_setting(shared), Sealer.from_setting(shared)
    assert b.open("k", a.seal("k", [1, 2])) == [1, 2]  # replicas with one key read each other's entries
    with pytest.raises(ValueError):
        Sealer.from_setting("c2hvcnQ=")  # 5 bytes
