"""`/_sim/*`: fault knobs, counters and health, the same on every simulator."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from simulators.kit.faults import FaultConfig
from simulators.kit.knobs import knob_routes
from simulators.kit.runtime import SimRuntime


def admin_routes(runtime: SimRuntime, info: dict[str, Any]) -> list[Route]:
    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "service": runtime.service, **info})

    def set_faults(config: FaultConfig) -> None:
        runtime.faults = config

    async def get_stats(_: Request) -> JSONResponse:
        return JSONResponse(runtime.stats.as_json())

    async def reset_stats(_: Request) -> JSONResponse:
        runtime.stats.reset()
        return JSONResponse(runtime.stats.as_json())

    return [
        Route("/_sim/health", health, methods=["GET"]),
        *knob_routes(
            "/_sim/faults",
            FaultConfig,
            lambda: runtime.faults,
            set_faults,
            FaultConfig.model_dump,
            what="fault",
        ),
        Route("/_sim/stats", get_stats, methods=["GET"]),
        Route("/_sim/stats", reset_stats, methods=["DELETE"]),
        Route("/_sim/stats/reset", reset_stats, methods=["POST"]),
    ]
