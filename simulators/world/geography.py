"""Streets, compounds, premises and grids of the seeded district."""

from __future__ import annotations

import random
from collections.abc import Iterator

from faker import Faker

from simulators.world import names
from simulators.world.model import Compound, FieldWorker, Grid, LonLat, Premises, Road


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


def compounds(rng: random.Random, ew: list[Road]) -> list[Compound]:
    """One or two compounds per block; each opens onto the block's southern road."""
    labels = [p + s for s in names.COMPOUND_SUFFIXES for p in names.COMPOUND_PREFIXES]
    rng.shuffle(labels)
    out: list[Compound] = []
    for row in range(len(names.EW_ROADS) - 1):
        for col in range(len(names.NS_ROADS) - 1):
            per_block = 2 if rng.random() < 0.5 else 1
            for k in range(per_block):
                lon = names.LON0 + (col + (k + 0.5) / per_block) * names.LON_STEP
                lat = names.LAT0 + (row + 0.55) * names.LAT_STEP
                gate_no = col * 60 + (k + 1) * 20 + (1 if row % 2 else 0)
                label = labels[len(out) % len(labels)]
                if len(out) >= len(labels):
                    label += f"{len(out) // len(labels) + 1}期"
                out.append(Compound(len(out) + 1, label, ew[row], gate_no, (lon, lat), (row, col)))
    return out


def flats(rng: random.Random, compound: Compound) -> Iterator[tuple[int, int, str, LonLat]]:
    """Endless (building, unit, room, location) of one compound, in address order."""
    units = rng.choice((2, 2, 3))
    floors = rng.choice((6, 6, 11, 18))
    doors = 2
    building = 0
    while True:
        building += 1
        bx = compound.centre[0] + ((building % 5) - 2) * 0.0007
        by = compound.centre[1] + ((building // 5) % 4 - 1.5) * 0.0006
        for unit in range(1, units + 1):
            for floor in range(1, floors + 1):
                for door in range(1, doors + 1):
                    yield building, unit, f"{floor}{door:02d}", (round(bx, 6), round(by, 6))


def residential_premises(rng: random.Random, comps: list[Compound], count: int) -> list[Premises]:
    """`count` flats spread over the compounds, filled in address order."""
    weights = [rng.uniform(0.5, 1.5) for _ in comps]
    scale = count / sum(weights)
    quotas = [int(w * scale) for w in weights]
    for i in range(count - sum(quotas)):
        quotas[i % len(quotas)] += 1
    out: list[Premises] = []
    for comp, quota in zip(comps, quotas, strict=True):
        gen = flats(rng, comp)
        for _ in range(quota):
            building, unit, room, loc = next(gen)
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
                )
            )
    rng.shuffle(out)
    return out


def street_premises(rng: random.Random, ew: list[Road], count: int, first_id: int) -> list[Premises]:
    """Shops and offices with a street number on an east-west road."""
    out: list[Premises] = []
    used: set[tuple[int, int]] = set()
    while len(out) < count:
        row = rng.randrange(len(ew) - 1)
        col = rng.randrange(len(names.NS_ROADS) - 1)
        house_no = col * 60 + rng.randrange(1, 30) * 2 + (1 if row % 2 else 0)
        if (row, house_no) in used:
            continue
        used.add((row, house_no))
        lon = names.LON0 + (house_no - row % 2) / 60 * names.LON_STEP
        lat = names.LAT0 + row * names.LAT_STEP + 0.0004
        out.append(
            Premises(
                first_id + len(out),
                None,
                ew[row],
                house_no,
                None,
                None,
                None,
                (round(lon, 6), round(lat, 6)),
                names.DISTRICT,
                names.CITY,
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
