"""The HTTP seam every backend client shares: pooled connections, a total deadline, mapped errors.

A call is an `Outgoing` request built from what is prepared once per backend (`RequestFactory`: the
base URL, the default headers) and sent through an `Exchange`: a bare pooled aiohttp session by
default (`AiohttpExchange`), or any httpx transport behind `HttpxExchange` (narrow tests hand in
`httpx.MockTransport`). Parsers read the `Answer` (status, body, headers). No `httpx.AsyncClient`
and, by default, no httpx models on the hot path: the client re-parses the base URL and walks auth,
redirect and cookie handling per call, none of which a back-office call uses, and building and
reading httpx's request and response around the aiohttp exchange cost as much CPU again as the
exchange itself; the numbers are in docs/benchmarks.md#backend-call-path.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from infra.deadline import time_left
from infra.errors import BackendServerError, BackendTimeout, BackendUnavailable
from infra.http.aiohttp_exchange import AiohttpExchange
from infra.http.config import BackendConfig
from infra.http.exchange import Answer, Exchange, HttpxExchange, TransportFailure, TransportTimeout
from infra.http.request_factory import RequestFactory
from infra.http.transport import MeteredExchange
from infra.resilience.breaker import CircuitBreaker, State, StateListener
from infra.resilience.bulkhead import Bulkhead
from infra.resilience.guards import GuardState, guard_state
from infra.resilience.rate_budget import RateBudget, Sleep
from infra.resilience.retry import RetryPolicy
from infra.telemetry import NO_TELEMETRY, OK, BackendTelemetry, outcome_of
from infra.tracing import NOT_TRACED, BackendTracing

_USER_AGENT = "tidegate-bff"
T = TypeVar("T")


class BackendHttp:
    def __init__(
        self,
        config: BackendConfig,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        telemetry: BackendTelemetry = NO_TELEMETRY,
    ) -> None:
        """`transport`: send through httpx's API and this transport instead of the bare aiohttp
        session. `clock` and `sleep` drive the breaker, the rate budget and the retries (tests inject
        them); `telemetry` hears of every attempt, request, breaker transition and budget decision."""
        self.config = config
        self.name = config.name
        self._telemetry = telemetry
        self._requests = RequestFactory(config.base_url, {"User-Agent": _USER_AGENT})
        self._exchange: Exchange = (
            HttpxExchange(transport)
            if transport is not None
            else AiohttpExchange(config.max_connections, self._requests.default_headers)
        )
        if telemetry is not NO_TELEMETRY:
            self._exchange = MeteredExchange(self._exchange, config.name, telemetry)
        self.tracing = BackendTracing(config.tracer)  # a CLIENT span per call, `traceparent` sent along
        # One breaker per backend: once it opens, calls are refused at once (CallNotPermitted,
        # BACKEND_UNAVAILABLE) instead of each waiting out a timeout against a system that is down.
        self.breaker = (
            CircuitBreaker(config.name, config.breaker, clock, on_state_change=_reporter(telemetry))
            if config.breaker
            else None
        )
        if self.breaker is not None:
            telemetry.breaker_state(config.name, None, self.breaker.state.value)
        # A cap on calls started per second and on calls in flight, each with a critical-only
        # reserve and a lower ceiling for sheddable work: the back office never sees more than it
        # can carry, and under a surge history and bills are shed before the screen pop.
        decided = functools.partial(telemetry.rate_decision, "backend_rate", config.name)
        self.rate = (
            RateBudget(
                config.name,
                config.rate,
                clock=clock,
                sleep=sleep,
                on_decision=decided,
                shared=config.shared_rate,
            )
            if config.rate
            else None
        )
        decided = functools.partial(telemetry.rate_decision, "bulkhead", config.name)
        self.bulkhead = (
            Bulkhead(config.name, config.bulkhead, on_decision=decided) if config.bulkhead else None
        )
        # Idempotent reads that failed transiently are tried again, within 10% extra calls.
        self.retry = (
            RetryPolicy(config.name, config.retry, clock=clock, sleep=sleep) if config.retry else None
        )

    def share(self, replicas: int) -> None:
        """Hold this replica to its part of what the fleet promised the back office: the configured
        bulkhead and rate budget are the fleet's, divided here by the replicas sharing them now
        (`infra.fleet`); called again whenever the fleet changes size. A rate budget on the fleet's
        shared buckets stays whole (its fallback share follows the fleet in the limiter)."""
        if self.bulkhead is not None and self.config.bulkhead is not None:
            self.bulkhead.reconfigure(self.config.bulkhead.share(replicas))
        if self.rate is not None and self.config.rate is not None and self.rate.shared is None:
            self.rate.reconfigure(self.config.rate.share(replicas))

    def guard_state(self) -> GuardState:
        """Breaker, bulkhead and rate budget as they stand now (the supervisor's board reads it)."""
        return guard_state(self.name, self.breaker, self.bulkhead, self.rate)

    async def request(self, method: str, path: str, **kwargs: Any) -> Answer:
        """The raw answer, whatever its status: for callers that judge it themselves (no breaker)."""
        return await self._send(method, path, **kwargs)

    async def fetch(
        self,
        method: str,
        path: str,
        parse: Callable[[Answer], T],
        *,
        idempotent: bool | None = None,
        **kwargs: Any,
    ) -> T:
        """Send, read and `parse` (which raises the backend's mapped errors) inside the breaker, so a
        SOAP 9999 or an esriJSON error object counts as a failure just like a timeout does.

        `idempotent` (default: GET is, anything else is not) allows retries; a POST that only reads
        must say so. Each retry is a call the backend sees, so it passes every guard again. The first
        attempt runs here, not inside the retry policy's frame (`RetryPolicy.after` takes over only
        when it failed): a call is one frame for the guards, one to send and one for the exchange.
        """
        retry = self.retry
        if retry is None:
            return await self._attempt(method, path, parse, kwargs)
        retry.first_attempt()  # as `RetryPolicy.call` does
        try:
            return await self._attempt(method, path, parse, kwargs)
        except BackendUnavailable as exc:
            safe = method == "GET" if idempotent is None else idempotent
            again = functools.partial(self._attempt, method, path, parse, kwargs)
            return await retry.after(exc, again, idempotent=safe, what=f"{method} {path}")

    async def _attempt(
        self, method: str, path: str, parse: Callable[[Answer], T], kwargs: dict[str, Any]
    ) -> T:
        """One attempt through rate budget, bulkhead and breaker, in that order (a call waiting for a
        token holds no slot, and a shed call never reaches the breaker: not the backend's fault),
        its outcome reported (`backend_call`: ok or the error's code; a cancelled attempt reports
        nothing). A free token and a free slot are taken without awaiting (`try_acquire`), and the
        breaker is entered and left around the send in this frame (`enter`/`exit`, the two halves
        of `CircuitBreaker.call`): the guards cost no coroutine of their own."""
        try:
            rate = self.rate
            if rate is not None and not rate.try_acquire():
                await rate.acquire()
            bulkhead = self.bulkhead
            if bulkhead is not None and not bulkhead.try_acquire():
                await bulkhead.acquire()
            try:
                breaker = self.breaker
                if breaker is None:
                    result = parse(await self._send(method, path, **kwargs))
                else:
                    entered = breaker.enter()
                    try:
                        result = parse(await self._send(method, path, **kwargs))
                    except BaseException as exc:
                        breaker.exit(entered, exc)
                        raise
                    breaker.exit(entered, None)
            finally:
                if bulkhead is not None:
                    bulkhead.release()
        except Exception as exc:
            self._telemetry.backend_call(self.name, outcome_of(exc))
            raise
        self._telemetry.backend_call(self.name, OK)
        return result

    async def _send(
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
        data: dict[str, Any] | None = None,
    ) -> Answer:
        """Send and read the whole body within the deadline; transport failures become backend errors."""
        budget = self.config.timeout_s if timeout_s is None else timeout_s
        left = time_left()
        if left is not None:
            if left <= 0:  # the operation's budget is spent: do not load a backend for nothing
                raise BackendTimeout(self.name, "the operation's time budget ran out before this call")
            budget = min(budget, left)
        # `asyncio.timeout(budget)` below bounds the whole exchange: no per-call timeout object.
        request = self._requests.build(
            method, path, params=params, query=query, headers=headers, content=content, json=json, data=data
        )
        traced = self.tracing.call(self.name, request)
        try:
            if traced is NOT_TRACED:  # tracing off: no span to open, close or answer
                async with asyncio.timeout(budget):
                    return await self._exchange.send(request)
            async with traced as call, asyncio.timeout(budget):
                answer = await self._exchange.send(request)
                call.answered(answer)
                return answer
        except TimeoutError as exc:
            raise BackendTimeout(self.name, f"no answer within {budget * 1000:.0f} ms") from exc
        except TransportTimeout as exc:
            raise BackendTimeout(self.name, f"timed out: {exc.kind}") from exc
        except TransportFailure as exc:
            raise BackendServerError(self.name, f"transport failure: {exc}") from exc

    async def aclose(self) -> None:
        await self._exchange.aclose()


def _reporter(telemetry: BackendTelemetry) -> StateListener:
    """The breaker's state-change listener, in the telemetry's plain strings."""

    def changed(name: str, old: State, new: State) -> None:
        telemetry.breaker_state(name, old.value, new.value)

    return changed
