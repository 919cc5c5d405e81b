"""A five-main network small enough to trace by hand (for narrow unit tests of the trace and its cache).

    source ─ 1 ──[10]── 2 ─a─[20]─b─ 3 ──[30]─c─ 4 ──[40]── 5

Valve a sits on main 20 next to node 2, b on 20 next to node 3 (stuck open: inoperable), c on 30 next
to node 4. Main 50 is an out-of-service stub at node 5. Accounts tap mains 10, 20, 30 and 40.
"""

from __future__ import annotations

from domain.enums import MainKind, PipeStatus, SourceKind, ValveBoundary
from domain.geo import GeoPoint
from domain.network import NetworkMain, Valve, WaterSource
from domain.records import ServiceConnection


def main(oid: int, a: int, b: int, status: PipeStatus = PipeStatus.IN_SERVICE) -> NetworkMain:
    return NetworkMain(oid, f"GS-{oid:06d}", a, b, status, MainKind.DISTRIBUTION, 200, "江滨大道")


def valve(oid: int, main_id: int, node: int, *, operable: bool = True, open_: bool = True) -> Valve:
    return Valve(oid, f"FM-{oid:06d}", main_id, node, operable, open_, True, ValveBoundary.NONE, None)


MAINS = [
    main(10, 1, 2),
    main(20, 2, 3),
    main(30, 3, 4),
    main(40, 4, 5),
    main(50, 5, 6, PipeStatus.OUT_OF_SERVICE),
]
A, B, C = valve(1, 20, 2), valve(2, 20, 3, operable=False), valve(3, 30, 4)
VALVES = [A, B, C]
SOURCES = [WaterSource(1, "SY-0001", "江城第一水厂", SourceKind.WATER_WORKS, 1, (10,), "PZ1")]
TAPS = {10: ["0010000001"], 20: ["0010000002", "0010000003"], 30: ["0010000004"], 40: ["0010000005"]}
CONNECTIONS = {
    no: ServiceConnection(no, GeoPoint(120.1, 30.27), main_id, "WG-01")
    for main_id, nos in TAPS.items()
    for no in nos
}
