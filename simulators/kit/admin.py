"""`/_sim/*`: fault knobs, counters and health, the same on every simulator."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from simulators.kit.faults import FaultConfig
from simulators.kit.runtime import SimRuntime


def admin_routes(runtime: SimRuntime, info: dict[str, Any]) -> list[Route]:
    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "service": runtime.service, **info})

    async def get_faults(_: Request) -> JSONResponse:
        return JSONResponse(runtime.faults.model_dump())

    async def set_faults(request: Request) -> JSONResponse:
        """PUT replaces every knob (unset ones reset to defaults); PATCH changes the ones given."""
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "body must be JSON"}, status_code=400)
        if not isinstance(body, dict):
            return JSONResponse({"error": "body must be a JSON object"}, status_code=400)
        merged = body if request.method == "PUT" else {**runtime.faults.model_dump(), **body}
        try:
            runtime.faults = FaultConfig.model_validate(merged)
        except ValidationError as exc:
            errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
            return JSONResponse({"error": "invalid fault settings", "details": errors}, status_code=422)
        return JSONResponse(runtime.faults.model_dump())

    async def get_stats(_: Request) -> JSONResponse:
        return JSONResponse(runtime.stats.as_json())

    async def reset_stats(_: Request) -> JSONResponse:
        runtime.stats.reset()
        return JSONResponse(runtime.stats.as_json())

    return [
        Route("/_sim/health", health, methods=["GET"]),
        Route("/_sim/faults", get_faults, methods=["GET"]),
        Route("/_sim/faults", set_faults, methods=["PUT", "PATCH", "POST"]),
        Route("/_sim/stats", get_stats, methods=["GET"]),
        Route("/_sim/stats", reset_stats, methods=["DELETE"]),
        Route("/_sim/stats/reset", reset_stats, methods=["POST"]),
    ]
