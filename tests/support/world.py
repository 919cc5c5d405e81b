"""The same world the test simulators serve, built in-process to pick keys and check answers."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from simulators.world import World, build_world
from tests.support.processes import TEST_AS_OF, TEST_CUSTOMERS, TEST_SEED


@lru_cache(maxsize=1)
def seeded_world() -> World:
    return build_world(TEST_SEED, TEST_CUSTOMERS, date.fromisoformat(TEST_AS_OF))
