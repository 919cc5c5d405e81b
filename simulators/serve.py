"""Start one simulator: build the seeded world, then serve that product's API with uvicorn."""

from __future__ import annotations

import importlib
import random

import uvicorn
from starlette.applications import Starlette

from simulators.kit.options import SimOptions
from simulators.world import build_world


def create_app(options: SimOptions) -> Starlette:
    world = build_world(options.seed, options.customers, options.as_of, options.inoperable_share)
    module = importlib.import_module(f"simulators.{options.service}.app")
    app: Starlette = module.create_app(world, options, random.Random(options.seed ^ 0x5EED))
    return app


def run(options: SimOptions) -> None:
    app = create_app(options)
    uvicorn.run(
        app, host=options.host, port=options.port, log_level="warning", access_log=False, lifespan="off"
    )
