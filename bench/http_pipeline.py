"""The HTTP pipeline's own CPU per screen pop: everything above GraphQL execution, nothing below it.

`bench.screen_pop` measures a whole pop, where the backend calls and the walk dominate and a change
of a few microseconds in the middleware, the view or the token check drowns in the noise of two
busy cores. This bench holds all of that still: one real `ScreenPop` is answered first (over the
simulators, through the real app), its data and its audit notes kept; then the manifest's compiled
operation is replaced by a replay of that answer, and the persisted ScreenPop request is driven
through the app as uvicorn would (`ProxyHeadersMiddleware` → metrics → body limit → routing →
`BearerAuth` → `GraphQLView` → Strawberry's `run` → audit, log line, metrics), in process, with no
socket. The `floor` leg is one bare Starlette endpoint answering the same JSON behind the same
`ProxyHeadersMiddleware`: what serving that answer costs at the least.

    python -m bench.http_pipeline --requests 2000 --rounds 9

Requests are paced (`--rate`, 1,000/s by default) so the audit writer batches as it would in a
server, not 500 records at a time. Prints `tidegate` and `floor` (`cpu_us_per_request`: median over
rounds, `min_us`), `ratio_cpu` (floor / tidegate, median of the rounds' paired ratios) and
`unmasked_per_pop` (the replayed audit notes). Legs alternate within each round.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, cast

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message
from strawberry.types import ExecutionResult
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bench.screen_pop import PERSISTED_SCREEN_POP, SEED, _phones
from bench.stack import backend_env, bearer, cost_only_env, start_simulators
from gateway.persisted.compiled_operation import CompiledOperation
from schema.compiled import served_by
from simulators.launch import stop

Call = Callable[[bytes], Awaitable[bytes]]


def _caller(app: ASGIApp, authorization: str, state: dict[str, Any]) -> Call:
    """One POST /graphql through `app` as uvicorn hands it over; the answer's body (200 or it raises)."""
    outer: Any = ProxyHeadersMiddleware(cast(Any, app), trusted_hosts="127.0.0.1")  # uvicorn's own ASGI types

    async def call(body: bytes) -> bytes:
        headers = [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"accept", b"*/*"),
            (b"authorization", authorization.encode()),
            (b"user-agent", b"Python/3.11 aiohttp/3.9"),
        ]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000),
            "scheme": "http",
            "method": "POST",
            "root_path": "",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "query_string": b"",
            "headers": headers,
            "state": state.copy(),
        }
        sent: list[Message] = []
        read = False

        async def receive() -> Message:
            nonlocal read
            if read:
                await asyncio.Event().wait()  # the client never disconnects
            read = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        await outer(scope, receive, send)
        if sent[0]["status"] != 200:
            raise RuntimeError(f"{sent[0]['status']}: {sent[1]['body'][:300]!r}")
        return bytes(sent[1]["body"])

    return call


def _floor(data: dict[str, Any]) -> Starlette:
    """The same answer from one bare endpoint: read the body, write the JSON."""

    async def answer(request: Request) -> Response:
        orjson.loads(await request.body())
        return Response(orjson.dumps({"data": data}), media_type="application/json")

    return Starlette(routes=[Route("/graphql", answer, methods=["POST"])])


async def _cpu_us(call: Call, bodies: Sequence[bytes], requests: int, concurrency: int, rate: float) -> float:
    """CPU microseconds per request of this process (audit writer thread included), about `rate`
    requests a second: flat out, the audit writer's batches would grow past anything a server sees."""
    todo = iter(range(requests))
    pause = concurrency / rate

    async def worker() -> None:
        for i in todo:
            await call(bodies[i % len(bodies)])
            await asyncio.sleep(pause)

    started = time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return (time.process_time() - started) / requests * 1e6


async def _run(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    from gateway.app import app_from_environment  # after the environment is set

    app = app_from_environment()  # as `tidegate serve` builds it: logging configured, heap frozen
    state: dict[str, Any] = {}
    async with app.router.lifespan_context(app) as lifespan_state:
        state.update(lifespan_state or {})
        tidegate = _caller(app, bearer(scratch / "issuer-key.pem")["Authorization"], state)
        bodies = [
            orjson.dumps({"extensions": PERSISTED_SCREEN_POP, "variables": {"phone": phone}})
            for phone in _phones(args.customers, 50)
        ]
        data, notes = await _capture(tidegate, bodies[0])
        floor = _caller(_floor(data), "", {})

        async def replay(
            self: CompiledOperation, context: Any, variables: Any, root_value: Any = None
        ) -> ExecutionResult:
            served_by.set("compiled")
            for customer, path in notes:
                context.on_unmask(customer, path)
            return ExecutionResult(data=data, errors=None)

        real = CompiledOperation.execute
        CompiledOperation.execute = replay  # type: ignore[method-assign]
        try:
            legs = {"tidegate": tidegate, "floor": floor}
            for call in legs.values():  # warm both
                await _cpu_us(call, bodies, 300, args.concurrency, args.rate)
            rounds: dict[str, list[float]] = {name: [] for name in legs}
            for index in range(args.rounds):
                order = list(legs) if index % 2 == 0 else list(reversed(legs))
                for name in order:
                    rounds[name].append(
                        await _cpu_us(legs[name], bodies, args.requests, args.concurrency, args.rate)
                    )
        finally:
            CompiledOperation.execute = real  # type: ignore[method-assign]
    paired = [f / t for f, t in zip(rounds["floor"], rounds["tidegate"], strict=True)]
    return {
        "benchmark": "http_pipeline",
        "requests_per_round": args.requests,
        "rounds": args.rounds,
        "concurrency": args.concurrency,
        "rate": args.rate,
        "unmasked_per_pop": len(notes),
        **{
            name: {
                "cpu_us_per_request": round(statistics.median(values), 1),
                "min_us": round(min(values), 1),
            }
            for name, values in rounds.items()
        },
        "ratio_cpu": round(statistics.median(paired), 3),
    }


async def _capture(call: Call, body: bytes) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """One real ScreenPop: its data and the (customer, field) pairs it showed in clear."""
    notes: list[tuple[str, str]] = []
    real = CompiledOperation.execute

    async def spy(
        self: CompiledOperation, context: Any, variables: Any, root_value: Any = None
    ) -> ExecutionResult | None:
        inner = context.on_unmask

        def note(customer: str, path: str) -> None:
            notes.append((customer, path))
            inner(customer, path)

        context.on_unmask = note
        return await real(self, context, variables, root_value)

    CompiledOperation.execute = spy  # type: ignore[method-assign]
    try:
        answer = orjson.loads(await call(body))
    finally:
        CompiledOperation.execute = real  # type: ignore[method-assign]
    if "errors" in answer or not answer.get("data"):
        raise RuntimeError(f"the captured ScreenPop failed: {answer}")
    data: dict[str, Any] = answer["data"]
    return data, notes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=2_000, help="requests per leg per round")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=float, default=1_000.0, help="requests per second, about")
    parser.add_argument("--customers", type=int, default=20_000)
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    world = ["--seed", str(SEED), "--customers", str(args.customers), "--latency-scale", "0"]
    sims = start_simulators(world, {"billing": ["--pool-size", "1000"]})
    saved = dict(os.environ)
    try:
        os.environ.update(backend_env(sims) | cost_only_env(sims))
        os.environ.update(
            {
                "TIDEGATE_LOG_LEVEL": "WARNING",
                "TIDEGATE_OUTAGE_INDEX": "false",
                "TIDEGATE_CACHE": "false",
                "TIDEGATE_AUDIT_PATH": str(scratch / "audit.jsonl"),
                "TIDEGATE_LOCAL_ISSUER": "true",
                "TIDEGATE_LOCAL_ISSUER_KEY_PATH": str(scratch / "issuer-key.pem"),
            }
        )
        result = asyncio.run(_run(args, scratch))
    finally:
        os.environ.clear()
        os.environ.update(saved)
        stop([proc for _, proc in sims.values()])
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
