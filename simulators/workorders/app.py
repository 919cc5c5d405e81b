"""The work-order system's REST API under `/wo/api`.

Errors are `{"errcode": <int>, "errmsg": "..."}` with a 4xx/5xx status, the vendor's style; a create
under a `client_ref` already used is 409 `{"errcode": 40903, ..., "order_no": <the existing order>}`.
List filters take comma-separated values; `cust_code` takes at most 50 at once.
Every status change also goes to the webhook subscriber, if any (`outbox.py`, `delivery.py`), and
a field crew moves open orders on by itself when `/_sim/crew` says so (`crew.py`).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulators.kit.app import build_app
from simulators.kit.background import StartBackground
from simulators.kit.faults import Latency
from simulators.kit.options import SimOptions
from simulators.kit.rest import BadRequest, failure_status, json_body, json_response
from simulators.kit.runtime import SimFailure, SimRuntime
from simulators.workorders.admin import Webhooks, admin_routes
from simulators.workorders.crew import CrewConfig, FieldCrew
from simulators.workorders.delivery import DeliveryWorker
from simulators.workorders.outbox import Outbox
from simulators.workorders.store import OrderError, OrderStore, order_json
from simulators.workorders.webhook_config import WebhookConfig
from simulators.world import World
from simulators.world.workorders import STATUS

LIST_MAX = 50
PAGE_MAX = 200
PREFIX = "/wo/api"

Handler = Callable[[Request], Awaitable[Response]]


def _error(errcode: int, errmsg: str, status: int, **details: str) -> Response:
    return json_response({"errcode": errcode, "errmsg": errmsg, **details}, status)


def _csv(request: Request, name: str, limit: int = LIST_MAX) -> set[str]:
    raw = request.query_params.get(name, "")
    values = {v.strip() for v in raw.split(",") if v.strip()}
    if len(values) > limit:
        raise BadRequest(f"{name} 最多 {limit} 个, 实际 {len(values)}")
    return values


def _page(request: Request, name: str, default: int, hi: int) -> int:
    raw = request.query_params.get(name, str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= hi:
        raise BadRequest(f"{name} 须为 1-{hi} 的整数")
    return int(raw)


class WorkOrderService:
    def __init__(self, store: OrderStore, runtime: SimRuntime) -> None:
        self.store = store
        self.runtime = runtime

    async def create(self, request: Request) -> Response:
        body = await json_body(request)
        async with self.runtime.call("createOrder") as call:
            order = self.store.create(body)
            return json_response(order_json(self.store, order), 201, call=call)

    async def get(self, request: Request) -> Response:
        async with self.runtime.call("getOrder") as call:
            order = self.store.get(request.path_params["order_no"])
            return json_response(order_json(self.store, order), call=call)

    async def list(self, request: Request) -> Response:
        custs = _csv(request, "cust_code")
        accts = _csv(request, "acct_no")
        statuses = _csv(request, "status", len(STATUS))
        if unknown := statuses - set(STATUS):
            raise BadRequest(f"未知状态码: {sorted(unknown)}")
        page, size = _page(request, "page", 1, 10_000), _page(request, "size", 20, PAGE_MAX)
        client_ref = request.query_params.get("client_ref")
        parent_no = request.query_params.get("parent_no")
        async with self.runtime.call("listOrders", batch=max(len(custs), 1)) as call:
            found = self.store.query(custs, accts, statuses, client_ref, parent_no)
            chunk = found[(page - 1) * size : page * size]
            return json_response(
                {
                    "total": len(found),
                    "page": page,
                    "size": size,
                    "list": [order_json(self.store, o) for o in chunk],
                },
                call=call,
            )

    async def transition(self, request: Request) -> Response:
        body = await json_body(request)
        async with self.runtime.call("transitionOrder") as call:
            order = self.store.transition(request.path_params["order_no"], body)
            return json_response(order_json(self.store, order), call=call)

    async def grids(self, _: Request) -> Response:
        async with self.runtime.call("listGrids") as call:
            items = [
                {
                    "grid_code": g.code,
                    "grid_name": g.name,
                    "worker_id": g.worker.worker_id,
                    "worker_name": g.worker.name,
                    "worker_mobile": g.worker.mobile,
                }
                for g in self.store.world.grids
            ]
            return json_response({"list": items}, call=call)


def _guard(op: str, handler: Handler) -> Handler:
    async def endpoint(request: Request) -> Response:
        request.state.sim_op = op
        try:
            return await handler(request)
        except OrderError as exc:
            return _error(exc.errcode, exc.message, exc.status, **exc.details)
        except BadRequest as exc:
            return _error(40000, exc.message, exc.status)
        except SimFailure as exc:
            return _error(50301, "系统繁忙", failure_status(exc))

    return endpoint


async def _crash(_: Request, exc: Exception) -> Response:
    return _error(50000, "系统内部错误", 500)


def create_app(world: World, options: SimOptions, rng: random.Random) -> Starlette:
    runtime = SimRuntime(
        "workorders",
        options.faults,
        latency={"createOrder": Latency(60, 0.4)},
        default_latency=Latency(30, 0.4),
        rng=rng,
    )
    store = OrderStore(world)
    svc = WorkOrderService(store, runtime)
    webhooks = Webhooks(WebhookConfig(url=options.webhook_url, secrets=list(options.webhook_secrets)))
    outbox = Outbox(webhooks.current, random.Random(rng.random()))
    webhooks.listeners.append(outbox.wake.set)  # a new subscriber or secret: the sender looks again
    store.listeners.append(outbox.on_change)
    crew = FieldCrew(store, random.Random(rng.random()), CrewConfig(interval_ms=options.crew_interval_ms))
    runtime.stats.sections |= {"webhooks": outbox.stats, "crew": crew.stats}
    routes = [
        *admin_routes(webhooks, crew),
        Route(f"{PREFIX}/orders", _guard("createOrder", svc.create), methods=["POST"]),
        Route(f"{PREFIX}/orders", _guard("listOrders", svc.list), methods=["GET"]),
        Route(f"{PREFIX}/orders/{{order_no}}", _guard("getOrder", svc.get), methods=["GET"]),
        Route(
            f"{PREFIX}/orders/{{order_no}}/transition",
            _guard("transitionOrder", svc.transition),
            methods=["POST"],
        ),
        Route(f"{PREFIX}/grids", _guard("listGrids", svc.grids), methods=["GET"]),
    ]
    info = {"customers": len(world.customers), "seed": world.seed, "as_of": world.as_of.isoformat()}
    app = build_app(runtime, routes, info, _crash)
    app.add_middleware(StartBackground, starters=[DeliveryWorker(outbox, webhooks.current).run, crew.run])
    return app
