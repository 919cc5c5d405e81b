"""The 营收 (revenue) system's two SOAP 1.1 endpoints, as the contact centre's BFF will meet them.

`POST /ws/RevenueService` answers UTF-8; the older `POST /ws/MeterReadingService` answers GBK.
`GET <endpoint>?wsdl` serves a minimal WSDL. Protocol failures (malformed or hostile XML,
wrong envelope, unknown operation) are refused by the SOAP stack before dispatch, so they
never reach the pool; every recognised operation goes through `SimRuntime.call`, and the
kit's modelled failures (pool exhausted, injected error or timeout) answer Fault 9999.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from simulators.billing.ops import METER_OPS, REVENUE_OPS, Context, Operation
from simulators.billing.soap import BAD_REQUEST, SoapFault, busy, envelope, fault_body, parse_request
from simulators.billing.wsdl import wsdl
from simulators.kit.app import build_app
from simulators.kit.faults import Latency
from simulators.kit.options import SimOptions
from simulators.kit.runtime import InjectedTimeout, PoolExhausted, SimFailure, SimRuntime, garble
from simulators.world import World

# Lognormal service times: about 200 ms median with a long tail; keyed lookups are cheaper and steadier.
LATENCY = {
    "QueryAccountsByPhone": Latency(250, 0.6),
    "QueryAccounts": Latency(300, 0.6),
    "GetAccounts": Latency(200, 0.5),
    "GetBills": Latency(200, 0.6),
    "GetPayments": Latency(180, 0.6),
    "GetDirectDebit": Latency(120, 0.5),
    "SubmitFeeAdjustment": Latency(350, 0.6),
    "GetMeter": Latency(120, 0.5),
    "GetMeterReads": Latency(200, 0.6),
}
DEFAULT_LATENCY = Latency(200, 0.6)


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    encoding: str
    ops: dict[str, Operation]

    def respond(self, body: bytes, status: int = 200) -> Response:
        return Response(body, status, media_type=f"text/xml; charset={self.encoding}")


REVENUE = Endpoint("RevenueService", "/ws/RevenueService", "utf-8", REVENUE_OPS)
METER = Endpoint("MeterReadingService", "/ws/MeterReadingService", "GBK", METER_OPS)
ENDPOINTS = (REVENUE, METER)


def _charset(content_type: str | None) -> str | None:
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip('"')
    return None


def _failure_info(exc: SimFailure) -> str:
    if isinstance(exc, PoolExhausted):
        return "数据库连接池已满,请求排队超时"
    if isinstance(exc, InjectedTimeout):
        return "后台处理超时"
    return "后台服务异常"


def _endpoint_handler(ctx: Context, ep: Endpoint) -> Route:
    async def handle(request: Request) -> Response:
        if request.method == "GET":
            if any(k.lower() == "wsdl" for k in request.query_params):
                return ep.respond(wsdl(ep.name, ep.path, list(ep.ops), ep.encoding))
            return Response(
                "请使用 POST 调用或 ?wsdl 获取服务描述\n".encode(ep.encoding),
                405,
                headers={"Allow": "GET, POST"},
                media_type=f"text/plain; charset={ep.encoding}",
            )
        raw = await request.body()
        try:
            op, element = parse_request(
                raw, _charset(request.headers.get("content-type")), request.headers.get("soapaction")
            )
            request.state.sim_op = op
            operation = ep.ops.get(op)
            if operation is None:
                raise SoapFault(BAD_REQUEST, "不支持的操作", f"{ep.name} 不支持操作 {op}")
        except SoapFault as fault:
            return ep.respond(fault_body(fault, ep.encoding), 500)
        try:
            async with ctx.runtime.call(op, batch=operation.batch(element)) as call:
                try:
                    body, status = envelope(operation.handler(ctx, element), ep.encoding), 200
                except SoapFault as fault:
                    call.outcome = "business_error"
                    body, status = fault_body(fault, ep.encoding), 500
                if call.garble:
                    body = garble(body)
        except SimFailure as exc:
            body, status = fault_body(busy(_failure_info(exc)), ep.encoding), 500
        return ep.respond(body, status)

    return Route(ep.path, handle, methods=["GET", "POST"])


async def _on_crash(request: Request, exc: Exception) -> Response:
    """An unexpected exception still answers as the product would: a Fault, no stack trace."""
    ep = METER if request.url.path.startswith(METER.path) else REVENUE
    fault = SoapFault("9999", "系统异常,请联系管理员", f"内部错误 {type(exc).__name__}", "soap:Server")
    return ep.respond(fault_body(fault, ep.encoding), 500)


def create_app(world: World, options: SimOptions, rng: random.Random) -> Starlette:
    runtime = SimRuntime("billing", options.faults, latency=LATENCY, default_latency=DEFAULT_LATENCY, rng=rng)
    ctx = Context(world, options, runtime)
    routes: list[BaseRoute] = [_endpoint_handler(ctx, ep) for ep in ENDPOINTS]
    info = {
        "seed": world.seed,
        "customers": len(world.customers),
        "accounts": len(world.accounts),
        "as_of": world.as_of.isoformat(),
        "endpoints": {ep.path: sorted(ep.ops) for ep in ENDPOINTS},
    }
    return build_app(runtime, routes, info, _on_crash)
