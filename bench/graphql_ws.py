"""A small graphql-transport-ws client over aiohttp, as a workbench would speak it: the benchmarks and
the tests subscribe through it.

    async with GraphQLWs.connect(url, token) as ws:
        op = await ws.subscribe("subscription($a: ID!) { screenPop(agentId: $a) { callId } }", {"a": "A1"})
        message = await ws.receive(op)          # {"type": "next", "payload": {...}} (or error/complete)

A refused connection raises `Closed` with the server's close code (4403: Forbidden).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import aiohttp
import orjson

PROTOCOL = "graphql-transport-ws"


class Closed(Exception):
    def __init__(self, code: int | None, reason: str = "") -> None:
        super().__init__(f"websocket closed ({code}: {reason})")
        self.code = code
        self.reason = reason


class GraphQLWs:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._ids = itertools.count(1)
        self._queues: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self.close_code: int | None = None
        self.closed = asyncio.Event()

    @classmethod
    @asynccontextmanager
    async def connect(
        cls, url: str, token: str | None, *, params: dict[str, Any] | None = None
    ) -> AsyncIterator[GraphQLWs]:
        """Open, send connection_init (the token as `Authorization: Bearer`), wait for the ack."""
        payload = params if params is not None else ({"Authorization": f"Bearer {token}"} if token else {})
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(url, protocols=(PROTOCOL,)) as ws,
        ):
            client = cls(ws)
            await ws.send_str(_json({"type": "connection_init", "payload": payload}))
            first = await ws.receive()
            if first.type is not aiohttp.WSMsgType.TEXT:
                raise Closed(ws.close_code, str(first.extra or ""))
            if orjson.loads(first.data).get("type") != "connection_ack":
                raise Closed(None, f"expected connection_ack, got {first.data!r}")
            client._reader = asyncio.create_task(client._read())
            try:
                yield client
            finally:
                client._reader.cancel()
                with suppress(asyncio.CancelledError):
                    await client._reader

    async def subscribe(
        self, query: str, variables: dict[str, Any] | None = None, extra: dict[str, Any] | None = None
    ) -> str:
        """`extra` joins the payload, e.g. `extensions` naming a persisted operation (`query` then empty)."""
        op = str(next(self._ids))
        self._queues[op] = asyncio.Queue()
        payload = {"query": query, "variables": variables or {}, **(extra or {})}
        message = {"id": op, "type": "subscribe", "payload": payload}
        await self._ws.send_str(_json(message))
        return op

    async def receive(self, op: str) -> dict[str, Any]:
        """The next message for `op` (`next`, `error` or `complete`); `Closed` if the socket closes first."""
        queue = self._queues[op]
        getter = asyncio.ensure_future(queue.get())
        closed = asyncio.ensure_future(self.closed.wait())
        done, _ = await asyncio.wait({getter, closed}, return_when=asyncio.FIRST_COMPLETED)
        closed.cancel()
        if getter in done:
            return getter.result()
        getter.cancel()
        raise Closed(self.close_code)

    async def complete(self, op: str) -> None:
        await self._ws.send_str(_json({"id": op, "type": "complete"}))

    async def send_raw(self, message: dict[str, Any]) -> None:
        await self._ws.send_str(_json(message))

    async def _read(self) -> None:
        try:
            async for frame in self._ws:
                if frame.type is not aiohttp.WSMsgType.TEXT:
                    continue
                message = orjson.loads(frame.data)
                if message.get("type") == "ping":
                    await self._ws.send_str(_json({"type": "pong"}))
                elif (op := message.get("id")) in self._queues:
                    self._queues[op].put_nowait(message)
        finally:
            self.close_code = self._ws.close_code
            self.closed.set()


async def closed_with(url: str, token: str | None, **kwargs: Any) -> int | None:
    """Connect expecting a refusal: the close code the server sent."""
    try:
        async with GraphQLWs.connect(url, token, **kwargs):
            return None
    except Closed as exc:
        return exc.code


def _json(message: dict[str, Any]) -> str:
    return orjson.dumps(message).decode()  # the protocol speaks text frames
