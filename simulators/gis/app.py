"""The GIS simulator's HTTP face: ArcGIS REST FeatureServer routes over the seeded network.

Every answer is HTTP 200, failures included, as ArcGIS Server does: callers must look
for an `error` object in the body. Parameters come from the query string or a
form-encoded POST body (which wins), with names matched case-insensitively.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from simulators.gis import edits, info
from simulators.gis.errors import INVALID_INPUT, UNABLE, GisError, error_body
from simulators.gis.layers import Layer, build_layers
from simulators.gis.query import plan_query, response_format, run_query
from simulators.kit.app import build_app
from simulators.kit.faults import Latency
from simulators.kit.options import SimOptions
from simulators.kit.runtime import PoolExhausted, SimFailure, SimRuntime, garble
from simulators.world import World

BASE = "/arcgis/rest/services/Water/FeatureServer"
BUSY = "Unable to process request. The service is busy: all instances are in use."
LATENCY = {
    "service_info": Latency(8, 0.3),
    **{f"layer_info:{layer_id}": Latency(10, 0.3) for layer_id in range(7)},
    "query:0": Latency(35, 0.4),
    "query:2": Latency(45, 0.5),  # the big layer: ~1.1 service connections per customer
}


def render(body: dict[str, Any], pretty: bool = False, cut: bool = False) -> Response:
    data = orjson.dumps(body, option=orjson.OPT_INDENT_2 if pretty else 0)
    if cut:
        data = garble(data)
    media = "text/plain; charset=utf-8" if pretty else "application/json; charset=utf-8"
    return Response(data, media_type=media)


async def read_params(request: Request) -> dict[str, str]:
    """Query string and form body merged; ArcGIS parameter names are case-insensitive."""
    params = {k.lower(): v for k, v in request.query_params.multi_items()}
    if request.headers.get("content-type", "").startswith("multipart/"):
        raise GisError(
            ["multipart bodies are not served here: post application/x-www-form-urlencoded"],
            message=INVALID_INPUT,
        )
    if request.method == "POST":
        body = (await request.body()).decode("utf-8", errors="replace")
        params.update((k.lower(), v) for k, v in parse_qsl(body, keep_blank_values=True))
    return params


class GisService:
    def __init__(self, runtime: SimRuntime, layers: dict[int, Layer]) -> None:
        self.runtime = runtime
        self.layers = layers

    def layer(self, raw: str) -> Layer:
        layer = self.layers.get(int(raw)) if raw.isascii() and raw.isdigit() else None
        if layer is None:
            raise GisError([f"Requested layer '{raw[:20]}' does not exist"], message=INVALID_INPUT)
        return layer

    async def serve(
        self,
        request: Request,
        op: str,
        work: Callable[[], dict[str, Any]],
        batch: int = 1,
        refused: GisError | None = None,
        failure: str = UNABLE,
    ) -> Response:
        """One simulated call: injected faults win over everything, even a bad request."""
        request.state.sim_op = op
        pretty = False
        try:
            async with self.runtime.call(op, batch) as call:
                try:
                    pretty = response_format(await read_params(request))
                    if refused is not None:
                        raise refused
                    body = work()
                except GisError as exc:
                    call.outcome = "business_error"
                    body = exc.body()
                return render(body, pretty, call.garble)
        except PoolExhausted:
            return render(error_body(503, BUSY))
        except SimFailure:
            return render(error_body(500, failure))

    async def catalog(self, request: Request) -> Response:
        return await self.serve(request, "catalog", info.catalog)

    async def service_info(self, request: Request) -> Response:
        return await self.serve(request, "service_info", lambda: info.service_info(self.layers))

    async def layer_info(self, request: Request) -> Response:
        raw = request.path_params["layer"]
        if raw == "layers":
            return await self.serve(request, "layers", lambda: info.all_layers(self.layers))
        try:
            layer = self.layer(raw)
        except GisError as exc:
            return await self.serve(request, "layer_info:invalid", dict, refused=exc)
        return await self.serve(request, f"layer_info:{layer.schema.id}", lambda: info.layer_info(layer))

    async def query(self, request: Request) -> Response:
        raw = request.path_params["layer"]
        try:
            layer = self.layer(raw)
        except GisError as exc:
            return await self.serve(request, "query:invalid", dict, refused=exc)
        op, failure = f"query:{layer.schema.id}", "Error performing query operation"
        try:
            plan = plan_query(layer, await read_params(request))
        except GisError as exc:
            return await self.serve(request, op, dict, refused=exc, failure=failure)
        return await self.serve(request, op, lambda: run_query(plan), plan.batch, failure=failure)

    async def apply_edits(self, request: Request) -> Response:
        raw = request.path_params["layer"]
        try:
            layer = self.layer(raw)
        except GisError as exc:
            return await self.serve(request, "applyEdits:invalid", dict, refused=exc)
        params = await read_params(request)
        return await self.serve(
            request, f"applyEdits:{layer.schema.id}", lambda: edits.apply_edits(layer, params)
        )

    async def unknown(self, request: Request) -> Response:
        request.state.sim_op = "unknown_url"
        if request.url.path.startswith(BASE):
            return render(error_body(400, INVALID_INPUT, ["Invalid URL"]))
        return render(error_body(404, "Service not found", []))


async def on_crash(request: Request, exc: Exception) -> Response:
    """An unexpected exception answers like ArcGIS does: an error object, never a stack trace."""
    return render(error_body(500, UNABLE, []))


def create_app(world: World, options: SimOptions, rng: random.Random) -> Starlette:
    runtime = SimRuntime("gis", options.faults, latency=LATENCY, default_latency=Latency(30, 0.4), rng=rng)
    layers = build_layers(world)
    svc = GisService(runtime, layers)
    methods = ["GET", "POST"]
    routes: list[BaseRoute] = [
        Route("/arcgis/rest/services", svc.catalog, methods=methods),
        Route(BASE, svc.service_info, methods=methods),
        Route(BASE + "/", svc.service_info, methods=methods),
        Route(BASE + "/{layer}", svc.layer_info, methods=methods),
        Route(BASE + "/{layer}/query", svc.query, methods=methods),
        Route(BASE + "/{layer}/applyEdits", svc.apply_edits, methods=["POST"]),
        Route("/arcgis/{rest:path}", svc.unknown, methods=methods),
    ]
    health = {
        "seed": options.seed,
        "layers": {layer.schema.name: len(layer.features) for layer in layers.values()},
    }
    return build_app(runtime, routes, health, on_crash)
