"""The seeded district every simulator serves from: one truth, four wire formats."""

from simulators.world.build import DEFAULT_CUSTOMERS, DEFAULT_SEED, World, build_world, phone_key

__all__ = ["DEFAULT_CUSTOMERS", "DEFAULT_SEED", "World", "build_world", "phone_key"]
