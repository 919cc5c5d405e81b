"""CPU per backend call on four paths, against a local back office that counts what it receives.

    python -m bench.backend_client --seconds 20

Legs, all in this process (the server is its own, `bench/counting_backend.py`, so its CPU is not
charged to any leg), each sending the screen pop's six calls in their shapes (a phone search, a SOAP
POST, two JSON POSTs, two GIS queries with long `where` clauses) through `fetch`, as backends do:

- `legacy`: `BackendHttp` as it was at cf28342: a full `httpx.Request` per call (URL parsed and
  validated, twice with a query; default headers rebuilt; a `timeout` extension) sent through
  `httpx_aiohttp.AiohttpTransport`, whose streaming response httpx then reads (`LegacyHttp` below).
- `lean`: `BackendHttp` over httpx's API, as it was at bbe353a: prepared base URL and headers, an
  `httpx.Request` and `httpx.Response` per call around `BufferedAiohttpTransport`
  (`infra/http/aiohttp_transport.py`, `HttpxExchange`). Same guards, deadline, tracing hook and
  error mapping.
- `direct`: today's default `BackendHttp`: the same, with no httpx model on the way (`Outgoing` in,
  `Answer` out, `infra/http/aiohttp_exchange.py`).
- `floor`: the bare aiohttp sender of `bench/floor_server.py` (no httpx objects, no deadline check,
  no guards): what the aiohttp exchange itself costs.

Equal work, counted: rounds of `--slice-s` per leg, the leg going first rotating each round; every leg
sends the same number of calls per round, and the server's own count (`GET /_stats`) before and after
each slice must match what the leg claims, or the ratios are withheld. CPU is this process's
(`time.process_time`, user and system) over the slice, divided by the calls the server counted.
Prints one JSON object: per leg `calls`, `calls_per_s`, `cpu_us_per_call` (median over rounds, and
quartiles), and `lean_vs_legacy`, `direct_vs_lean`, `floor_vs_lean`, `floor_vs_direct` (paired
per-round CPU ratios' median).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from bench.counting_backend import STATS
from bench.floor_server import AiohttpSender
from infra.deadline import time_left
from infra.errors import BackendServerError, BackendTimeout
from infra.http.aiohttp_transport import BufferedAiohttpTransport
from infra.http.client import BackendHttp
from infra.http.config import BackendConfig
from infra.tracing import NOT_TRACED
from simulators.launch import free_port, stop

T = TypeVar("T")
LEGS = ("legacy", "lean", "direct", "floor")
SOAP = (
    b'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/'
    b'soap/envelope/"><soap:Body><QueryAccount xmlns="http://billing.example/"><HH>1000000001</HH>'
    b"</QueryAccount></soap:Body></soap:Envelope>"
)
GIS = "/arcgis/rest/services/Water/MapServer"
# The screen pop's six calls in their shapes (method, path, keyword arguments of `fetch`).
CALLS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("GET", "/api/v1/contacts", {"params": {"phone": "13800138000"}}),
    (
        "POST",
        "/BillingService.asmx",
        {
            "content": SOAP,
            "headers": {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"QueryAccount"'},
        },
    ),
    ("POST", "/api/v1/interactions:batchQuery", {"json": {"contactIds": ["C1", "C2"], "limitPerContact": 5}}),
    ("POST", "/api/v2/orders:search", {"json": {"cust_code": "KH0000000001,KH0000000002"}}),
    (
        "GET",
        f"{GIS}/3/query",
        {"params": {"f": "json", "outSR": "4326", "outFields": "OBJECTID,ACCOUNT_NO,SHAPE",
                    "orderByFields": "OBJECTID ASC", "where": "ACCOUNT_NO IN ('1000000001','1000000002')"}},
    ),
    (
        "GET",
        f"{GIS}/5/query",
        {"params": {"f": "json", "outSR": "4326", "outFields": "*", "orderByFields": "OBJECTID ASC",
                    "where": "STATUS IN (1,2) AND END_TIME IS NULL"}},
    ),
)  # fmt: skip

PAIRS = ("lean_vs_legacy", "direct_vs_lean", "floor_vs_lean", "floor_vs_direct")


class Sender(Protocol):
    async def fetch(self, method: str, path: str, parse: Callable[[Any], T], **kw: Any) -> T: ...

    async def aclose(self) -> None: ...


class LegacyHttp(BackendHttp):
    """`BackendHttp._send` as it was at cf28342, on `httpx_aiohttp`'s transport: the `legacy` leg."""

    def __init__(self, config: BackendConfig) -> None:
        limits = httpx.Limits(
            max_connections=config.max_connections, max_keepalive_connections=config.max_connections
        )
        super().__init__(config)
        self._legacy = AiohttpTransport(limits=limits)
        self._base = config.base_url.rstrip("/")

    async def _send(  # the old signature, keyword for keyword, and today's encoded `query`
        self,
        method: str,
        path: str,
        *,
        timeout_s: float | None = None,
        params: Any = None,
        query: str | None = None,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        json: Any = None,
        data: dict[str, str] | None = None,
    ) -> httpx.Response:
        budget = self.config.timeout_s if timeout_s is None else timeout_s
        left = time_left()
        if left is not None:
            if left <= 0:
                raise BackendTimeout(self.name, "the operation's time budget ran out before this call")
            budget = min(budget, left)
        request = httpx.Request(
            method,
            self._base + path + (f"?{query}" if query else ""),
            params=params,
            headers={"User-Agent": "tidegate-bff", **(headers or {})},
            content=content,
            json=json,
            data=data,
            extensions={"timeout": {"connect": budget, "read": budget, "write": budget, "pool": budget}},
        )
        try:
            # Tracing is off in every leg: the no-op span it entered then, entered here too.
            async with NOT_TRACED, asyncio.timeout(budget):
                response = await self._legacy.handle_async_request(request)
                await response.aread()
                return response
        except TimeoutError as exc:
            raise BackendTimeout(self.name, f"no answer within {budget * 1000:.0f} ms") from exc
        except httpx.TimeoutException as exc:
            raise BackendTimeout(self.name, f"timed out: {exc.__class__.__name__}") from exc
        except httpx.HTTPError as exc:
            raise BackendServerError(
                self.name, f"transport failure: {exc.__class__.__name__}: {exc}"
            ) from exc

    async def aclose(self) -> None:
        await self._legacy.aclose()
        await super().aclose()


def _parse(response: Any) -> int:
    """What every backend's parse step needs of an answer: its status and its body."""
    if response.status_code != 200:
        raise RuntimeError(f"HTTP {response.status_code}")
    return len(response.content)


async def _slice(sender: Sender, pops: int, concurrency: int) -> None:
    """`pops` rounds of the six calls, `concurrency` at a time (as a pop's calls overlap)."""
    per_worker, extra = divmod(pops, concurrency)

    async def worker(n: int) -> None:
        for _ in range(n):
            for method, path, kw in CALLS:
                await sender.fetch(method, path, _parse, **kw)

    await asyncio.gather(*(worker(per_worker + (i < extra)) for i in range(concurrency)))


async def _served(stats: aiohttp.ClientSession, url: str) -> int:
    async with stats.get(url + STATS) as r:
        return int((await r.json())["requests"])


def _quartiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"median": round(values[0], 2), "q1": round(values[0], 2), "q3": round(values[0], 2)}
    q1, median, q3 = statistics.quantiles(values, n=4)
    return {"median": round(median, 2), "q1": round(q1, 2), "q3": round(q3, 2)}


async def measure(url: str, seconds: float, slice_s: float, concurrency: int) -> dict[str, Any]:
    config = BackendConfig("bench", url, max_connections=50)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=50))
    senders: dict[str, Sender] = {
        "legacy": LegacyHttp(config),
        "lean": BackendHttp(config, BufferedAiohttpTransport(config.max_connections)),
        "direct": BackendHttp(config),
        "floor": AiohttpSender(config, session),
    }
    stats = aiohttp.ClientSession()
    try:
        for sender in senders.values():  # warm-up: pools filled, caches and code paths warm
            await _slice(sender, 20, concurrency)
        started = time.perf_counter()
        await _slice(senders["legacy"], 20, concurrency)
        pops = max(2, round(20 * slice_s / max(time.perf_counter() - started, 1e-6)))
        rounds = max(2, round(seconds / (slice_s * len(LEGS))))
        cpu: dict[str, list[float]] = {leg: [] for leg in LEGS}
        wall = dict.fromkeys(LEGS, 0.0)
        counted = dict.fromkeys(LEGS, 0)
        for r in range(rounds):
            order = LEGS[r % len(LEGS) :] + LEGS[: r % len(LEGS)]
            for leg in order:
                before = await _served(stats, url)
                cpu0, wall0 = time.process_time(), time.perf_counter()
                await _slice(senders[leg], pops, concurrency)
                cpu1, wall1 = time.process_time(), time.perf_counter()
                served = await _served(stats, url) - before
                counted[leg] += served
                wall[leg] += wall1 - wall0
                cpu[leg].append((cpu1 - cpu0) / max(served, 1) * 1e6)
    finally:
        for sender in senders.values():
            await sender.aclose()
        await session.close()
        await stats.close()
    sent = rounds * pops * len(CALLS)
    result: dict[str, Any] = {
        "benchmark": "backend_client",
        "rounds": rounds,
        "calls_per_slice": pops * len(CALLS),
        "concurrency": concurrency,
    }
    for leg in LEGS:
        result[leg] = {
            "calls": counted[leg],
            "calls_per_s": round(counted[leg] / wall[leg], 1),
            "cpu_us_per_call": _quartiles(cpu[leg]),
        }
    if any(counted[leg] != sent for leg in LEGS):
        result["ratio_withheld"] = f"the server counted {counted}, not {sent} calls for every leg"
        for pair in PAIRS:
            result[pair] = None
        return result
    for pair in PAIRS:
        numerator, _, denominator = pair.partition("_vs_")
        result[pair] = _paired(cpu[numerator], cpu[denominator])
    return result


def _paired(numerator: list[float], denominator: list[float]) -> float:
    """The median over rounds of one leg's CPU per call over another's, in the same round."""
    return round(statistics.median(n / d for n, d in zip(numerator, denominator, strict=True)), 3)


def _serve() -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench.counting_backend", "--port", str(port)])
    return f"http://127.0.0.1:{port}", proc


async def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            if proc.poll() is not None:
                raise RuntimeError(f"the counting backend exited with {proc.returncode}")
            try:
                await _served(session, url)
                return
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} never answered")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="in all, shared by the legs")
    parser.add_argument("--slice-s", type=float, default=0.5, help="each leg's share of a round")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    url, proc = _serve()
    try:

        async def run() -> Mapping[str, Any]:
            await _wait(url, proc)
            return await measure(url, args.seconds, args.slice_s, args.concurrency)

        result = asyncio.run(run())
    finally:
        stop([proc])
    print(json.dumps(result))
    return 0 if "ratio_withheld" not in result else 1


if __name__ == "__main__":
    raise SystemExit(main())
