"""The same world the test simulators serve, built in-process to pick keys and check answers."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from simulators.world import World, build_world
from simulators.world.model import Customer
from tests.support.processes import TEST_AS_OF, TEST_CUSTOMERS, TEST_SEED


@lru_cache(maxsize=1)
def seeded_world() -> World:
    return build_world(TEST_SEED, TEST_CUSTOMERS, date.fromisoformat(TEST_AS_OF))


def sole_callers(world: World | None = None) -> list[Customer]:
    """Customers whose mobile is theirs alone, so a call from it pops exactly one customer (the
    CRM, and the agent's reach, decide nothing by guessing). In world order: modules that must not
    share a caller pick from opposite ends or at different offsets."""
    world = world or seeded_world()
    return [c for c in world.customers if c.mobile and len(world.customers_by_phone[c.mobile]) == 1]
