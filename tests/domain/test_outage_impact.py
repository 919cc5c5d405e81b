"""The pure parts of the outage impact on a four-main line (narrow unit tests; the seeded network's
cases, against the simulators, are in tests/services/test_outage_impact.py).

    source ─ node 1 ─ M1 ─ node 2 ─[V1] M2 [V2]─ node 3 ─ M3 ─ node 4 ─ M4 ─ node 5 (dead end)

Closing V1 and V2 shuts M2; M3 and M4 beyond it lose their supply (downstream); M1 stays fed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from domain.enums import MainKind, OutageKind, OutageStatus, PipeStatus, SourceKind, ValveBoundary
from domain.network import NetworkMain, Valve, WaterSource
from domain.network_graph import NetworkGraph
from domain.outage_impact import ImpactCause, account_notices, outage_reach, phone_notices
from domain.records import Outage


def _main(oid: int, a: int, b: int) -> NetworkMain:
    return NetworkMain(
        oid, f"GS-{oid:06d}", a, b, PipeStatus.IN_SERVICE, MainKind.DISTRIBUTION, 200, "解放路"
    )


def _valve(oid: int, main: int, node: int) -> Valve:
    return Valve(oid, f"FM-{oid:06d}", main, node, True, True, True, ValveBoundary.NONE, None)


GRAPH = NetworkGraph(
    [_main(1, 1, 2), _main(2, 2, 3), _main(3, 3, 4), _main(4, 4, 5)],
    [_valve(11, 2, 2), _valve(12, 2, 3)],
    [WaterSource(1, "SY-1", "水厂", SourceKind.WATER_WORKS, 1, (1,), "PZ1")],
    {1: ["0010000001"], 2: ["0010000002"], 3: ["0010000003", "0010000004"], 4: ["0010000005"]},
)
RESTORE = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai


def _outage(valves: tuple[int, ...] = (11, 12), mains: tuple[int, ...] = (2,)) -> Outage:
    return Outage(
        "TS0001",
        OutageKind.EMERGENCY,
        OutageStatus.ACTIVE,
        "DN200主管爆管",
        None,
        RESTORE,
        mains,
        (),
        None,
        valves,
    )


def test_the_closed_valves_shut_one_main_and_dry_the_line_behind_it() -> None:
    reach = outage_reach(GRAPH, _outage())
    assert reach.traced and reach.closed_valves == ("FM-000011", "FM-000012")
    assert dict(reach.causes) == {2: ImpactCause.SHUT, 3: ImpactCause.DOWNSTREAM, 4: ImpactCause.DOWNSTREAM}


def test_an_outage_with_mains_but_no_valves_takes_its_mains_trace() -> None:
    reach = outage_reach(GRAPH, _outage(valves=()))
    assert reach.traced and reach.causes[2] is ImpactCause.SHUT and reach.causes[4] is ImpactCause.DOWNSTREAM


def test_an_outage_naming_nothing_the_network_holds_is_not_traced() -> None:
    assert not outage_reach(GRAPH, _outage(valves=(99,), mains=(98,))).traced


def test_accounts_and_phones_hear_once_per_outage_with_a_message_to_play() -> None:
    by_account = account_notices(GRAPH, [outage_reach(GRAPH, _outage())])
    assert sorted(by_account) == ["0010000002", "0010000003", "0010000004", "0010000005"]
    # A landlord's mobile on two dry flats: one notice; a phone on a fed account: none.
    phones = {"0010000003": ["13800000001"], "0010000004": ["13800000001"], "0010000001": ["13800000009"]}
    by_phone = phone_notices(by_account, phones)
    assert list(by_phone) == ["13800000001"] and len(by_phone["13800000001"]) == 1
    told = by_phone["13800000001"][0]
    assert told.cause is ImpactCause.DOWNSTREAM and told.main_asset_no == "GS-000003"
    assert "上游" in told.message and "18:00" in told.message and "解放路" in told.message
    assert (
        "18:00" in by_account["0010000002"][0].message and "上游" not in by_account["0010000002"][0].message
    )
