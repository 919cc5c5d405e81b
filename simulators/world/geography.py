"""Streets, compounds, premises and grids of the seeded district."""

from __future__ import annotations

import random
from collections.abc import Iterator

from faker import Faker

from simulators.world import names
from simulators.world.model import Compound, FieldWorker, Frontage, Grid, LonLat, Premises, Road
from simulators.world.network import KX, M_PER_DEG_LAT, at, offset, units


def roads() -> tuple[list[Road], list[Road]]:
    ew = [Road(name, "ew", i, width) for i, (name, width) in enumerate(names.EW_ROADS)]
    ns = [Road(name, "ns", j, width) for j, (name, width) in enumerate(names.NS_ROADS)]
    return ew, ns


def node_point(row: int, col: int) -> LonLat:
    """The intersection of east-west road `row` and north-south street `col`."""
    return (round(names.LON0 + col * names.LON_STEP, 6), round(names.LAT0 + row * names.LAT_STEP, 6))


def bounds() -> tuple[float, float, float, float]:
    lon1 = names.LON0 + (len(names.NS_ROADS) - 1) * names.LON_STEP
    lat1 = names.LAT0 + (len(names.EW_ROADS) - 1) * names.LAT_STEP
    return names.LON0, names.LAT0, lon1, lat1


def house_no(along: float, side: int) -> int:
    """门牌号 from the position along the road: odd on the north (east) side, even on the other."""
    return int(along * 30) * 2 + (1 if side > 0 else 2)


def compounds(rng: random.Random, ew: list[Road], ns: list[Road]) -> list[Compound]:
    """One or two compounds per block; each gate opens onto one of the block's four streets."""
    labels = [p + s for s in names.COMPOUND_SUFFIXES for p in names.COMPOUND_PREFIXES]
    rng.shuffle(labels)
    out: list[Compound] = []
    for row in range(len(names.EW_ROADS) - 1):
        for col in range(len(names.NS_ROADS) - 1):
            per_block = 2 if rng.random() < 0.5 else 1
            for k in range(per_block):
                x0, x1 = col + k / per_block, col + (k + 1) / per_block
                centre = at((x0 + x1) / 2, row + 0.55)
                gate = rng.choices(("s", "n", "w", "e"), weights=(4, 2, 2, 2))[0]
                if gate in ("w", "e") and per_block == 2 and (gate == "w") != (k == 0):
                    gate = "s"  # the inner side of a shared block is the neighbour, not a street
                road, along, side = {
                    "s": (ew[row], (x0 + x1) / 2, 1),
                    "n": (ew[row + 1], (x0 + x1) / 2, -1),
                    "w": (ns[col], row + 0.5, 1),
                    "e": (ns[col + 1], row + 0.5, -1),
                }[gate]
                label = labels[len(out) % len(labels)]
                if len(out) >= len(labels):
                    label += f"{len(out) // len(labels) + 1}期"
                lo, hi = at(x0 + 0.06, row + 0.1), at(x1 - 0.06, row + 0.9)
                out.append(
                    Compound(
                        len(out) + 1,
                        label,
                        road,
                        house_no(along, side),
                        centre,
                        (row, col),
                        (lo[0], lo[1], hi[0], hi[1]),
                    )
                )
    return out


def flats(rng: random.Random, compound: Compound) -> Iterator[tuple[int, int, str, LonLat]]:
    """Endless (building, unit, room, location) of one compound, in address order; buildings
    stand anywhere on the compound's footprint, so each takes water from its nearest street."""
    units_ = rng.choice((2, 2, 3))
    floors = rng.choice((6, 6, 11, 18))
    doors = 2
    lon0, lat0, lon1, lat1 = compound.footprint
    slots = [(i, j) for i in range(5) for j in range(4)]
    rng.shuffle(slots)
    building = 0
    while True:
        building += 1
        i, j = slots[(building - 1) % len(slots)]
        shift = ((building - 1) // len(slots)) * 0.00012
        bx = lon0 + (i + 0.5) / 5 * (lon1 - lon0) + shift
        by = lat0 + (j + 0.5) / 4 * (lat1 - lat0)
        for unit in range(1, units_ + 1):
            for floor in range(1, floors + 1):
                for door in range(1, doors + 1):
                    yield building, unit, f"{floor}{door:02d}", (round(bx, 6), round(by, 6))


def building_frontage(compound: Compound, location: LonLat, ew: list[Road], ns: list[Road]) -> Frontage:
    """The street nearest the building, of the four around its block: its service pipe runs there."""
    row, col = compound.block
    x, y = units(location)
    by_metres = [
        ((y - row) * names.LAT_STEP * M_PER_DEG_LAT, Frontage(ew[row], round(x, 6), 1)),
        ((row + 1 - y) * names.LAT_STEP * M_PER_DEG_LAT, Frontage(ew[row + 1], round(x, 6), -1)),
        ((x - col) * names.LON_STEP * KX, Frontage(ns[col], round(y, 6), 1)),
        ((col + 1 - x) * names.LON_STEP * KX, Frontage(ns[col + 1], round(y, 6), -1)),
    ]
    return min(by_metres, key=lambda item: item[0])[1]


def residential_premises(
    rng: random.Random, comps: list[Compound], count: int, ew: list[Road], ns: list[Road]
) -> list[Premises]:
    """`count` flats spread over the compounds, filled in address order."""
    weights = [rng.uniform(0.5, 1.5) for _ in comps]
    scale = count / sum(weights)
    quotas = [int(w * scale) for w in weights]
    for i in range(count - sum(quotas)):
        quotas[i % len(quotas)] += 1
    out: list[Premises] = []
    for comp, quota in zip(comps, quotas, strict=True):
        gen = flats(rng, comp)
        frontage: dict[LonLat, Frontage] = {}
        for _ in range(quota):
            building, unit, room, loc = next(gen)
            if loc not in frontage:
                frontage[loc] = building_frontage(comp, loc, ew, ns)
            out.append(
                Premises(
                    len(out) + 1,
                    comp,
                    comp.road,
                    comp.gate_no,
                    building,
                    unit,
                    room,
                    loc,
                    names.DISTRICT,
                    names.CITY,
                    frontage[loc],
                )
            )
    rng.shuffle(out)
    return out


def street_sides(ew: list[Road], ns: list[Road]) -> list[tuple[Road, int, int]]:
    """(road, link, side) of every block-long street frontage: both sides of every street, but
    江滨大道's south side, which is the river."""
    out: list[tuple[Road, int, int]] = []
    for roads_, links in ((ew, len(ns) - 1), (ns, len(ew) - 1)):
        for road in roads_:
            for link in range(links):
                for side in (1, -1):
                    if not (road.axis == "ew" and road.index == 0 and side == -1):
                        out.append((road, link, side))
    return out


def street_premises(
    rng: random.Random,
    ew: list[Road],
    ns: list[Road],
    count: int,
    first_id: int,
    taken: set[tuple[str, int]],
) -> list[Premises]:
    """Shops and offices with a street number, dealt round the street frontages in turn (so both
    sides of every street have some once there are enough), at irregular spacing along each."""
    sides = street_sides(ew, ns)
    rng.shuffle(sides)
    phase = [rng.random() for _ in sides]
    out: list[Premises] = []
    for n in range(count):
        k, j = divmod(n, len(sides))
        road, link, side = sides[j]
        along = round(link + 0.05 + 0.9 * ((phase[j] + k * 0.618034) % 1.0), 6)
        no = house_no(along, side)
        while (road.name, no) in taken:
            no += 2
        taken.add((road.name, no))
        point = at(along, road.index) if road.axis == "ew" else at(road.index, along)
        loc = offset(point, road.axis, side * rng.uniform(30.0, 45.0))
        out.append(
            Premises(
                first_id + len(out),
                None,
                road,
                no,
                None,
                None,
                None,
                loc,
                names.DISTRICT,
                names.CITY,
                Frontage(road, along, side),
            )
        )
    return out


def grids(fake: Faker) -> list[Grid]:
    lon0, lat0, lon1, lat1 = bounds()
    # Grids reach a little past the outer roads so every point of the district is in one.
    lon0, lat0, lon1, lat1 = lon0 - 0.002, lat0 - 0.002, lon1 + 0.002, lat1 + 0.002
    dx = (lon1 - lon0) / names.GRID_COLS
    dy = (lat1 - lat0) / names.GRID_ROWS
    out: list[Grid] = []
    for r in range(names.GRID_ROWS):
        for c in range(names.GRID_COLS):
            n = r * names.GRID_COLS + c + 1
            x0, y0 = round(lon0 + c * dx, 6), round(lat0 + r * dy, 6)
            x1, y1 = round(lon0 + (c + 1) * dx, 6), round(lat0 + (r + 1) * dy, 6)
            ring = ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))
            worker = FieldWorker(f"W{n:03d}", fake.name(), fake.phone_number())
            out.append(Grid(f"WG-{n:02d}", f"{names.DISTRICT}第{n:02d}网格", ring, worker))
    return out


def grid_of(grid_list: list[Grid], point: LonLat) -> Grid:
    for grid in grid_list:
        if grid.contains(point):
            return grid
    raise ValueError(f"point {point} is outside every grid")
