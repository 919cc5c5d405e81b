"""The websocket side of /graphql: graphql-transport-ws as Strawberry speaks it, held to Tidegate's rules.

What `TransportWS` adds to Strawberry's handler:
- every error in a `next` or `error` message carries `extensions.code`, unexpected ones masked and
  logged, as over HTTP (`gateway.http.errors.public_error` only sees HTTP results);
- the audit trail (unmasked reads, refusals) is written after each result, not once per connection;
- the connection_init payload is kept for `on_ws_connect`, which authenticates it.

`SocketGate` decides who may hold a connection (`on_ws_connect`): the token in the connection_init
payload, verified like an HTTP request's, and at most N open connections per client in this process.
`SocketSession` is one connection's bookkeeping: who, what it ran, and when its token expires.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import orjson
from graphql import DocumentNode, GraphQLError, OperationType, get_operation_ast, parse
from starlette.types import Scope
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)

from gateway.auth.tokens import TokenVerifier
from gateway.auth.websocket import SocketRefusal, authenticate_socket
from gateway.http.errors import INTERNAL_MESSAGE
from gateway.observability.audit_writer import AuditUnavailable
from gateway.persisted.prepared_document import handing_over
from schema.compiled import served_by
from services.access import Access, Principal
from services.audit import AuditTrail
from services.calls import CallRegistry
from services.context import RequestContext
from services.errors import ErrorCode

logger = logging.getLogger("tidegate.websocket")

_HTTP_ONLY = "queries and mutations are sent with POST /graphql"
NOT_FOUND = ErrorCode.PERSISTED_QUERY_NOT_FOUND.value  # an id-only subscribe naming no manifest operation
TOO_MANY_SUBSCRIPTIONS = ErrorCode.TOO_MANY_SUBSCRIPTIONS  # `subscriptions_per_connection` reached
SESSION = "tidegate.socket"  # the scope key of the connection's `SocketSession`


class SocketGate:
    def __init__(self, verifier: TokenVerifier, calls: CallRegistry, max_per_client: int) -> None:
        self.verifier = verifier
        self.calls = calls
        self.max_per_client = max_per_client
        self._open: Counter[str] = Counter()  # open connections by token subject

    @contextmanager
    def session(self, scope: Scope) -> Iterator[SocketSession]:
        """One connection's bookkeeping, from the handshake until the socket is gone."""
        session = SocketSession()
        scope[SESSION] = session
        try:
            yield session
        finally:
            if session.principal is not None:
                self._release(session.principal.subject)
            session.end()

    async def connect(self, ctx: RequestContext) -> None:
        """`on_ws_connect`: authenticate the connection_init payload; ConnectionRejectionError (closed
        4403) for a bad token or a client already at its connection cap."""
        socket: WebSocket = ctx.request
        session: SocketSession = socket.scope[SESSION]
        outcome = await authenticate_socket(self.verifier, session.params)
        if isinstance(outcome, SocketRefusal):
            logger.info("websocket refused: %s", outcome.reason)
            raise ConnectionRejectionError
        principal = outcome.principal
        if self._open[principal.subject] >= self.max_per_client:
            logger.warning(
                "websocket refused: %s holds %d connections", principal.subject, self.max_per_client
            )
            raise ConnectionRejectionError
        self._open[principal.subject] += 1
        session.principal = principal
        session.close_at(outcome.expires_at + self.verifier.leeway_s, socket)
        socket.scope["principal"] = principal
        ctx.access = Access(principal, self.calls.current(principal.agent_id))
        ctx.audit.access = ctx.access

    @property
    def open_connections(self) -> int:
        return sum(self._open.values())

    def _release(self, subject: str) -> None:
        self._open[subject] -= 1
        if self._open[subject] <= 0:
            del self._open[subject]


@dataclass
class SocketSession:
    opened: float = field(default_factory=time.monotonic)
    principal: Principal | None = None
    params: dict[str, object] = field(default_factory=dict)  # the connection_init payload
    subscriptions: int = 0
    events: int = 0
    compiled_events: int = 0  # events whose answer the planned walk built (`schema.compiled`)
    expired: bool = False
    _expiry: asyncio.TimerHandle | None = None
    _closing: set[asyncio.Task[None]] = field(default_factory=set)

    def close_at(self, epoch_s: float, socket: WebSocket) -> None:
        """Close the connection when its token expires: a socket never outlives its credentials."""
        loop = asyncio.get_running_loop()
        self._expiry = loop.call_later(max(0.0, epoch_s - time.time()), self._expire, socket)

    def _expire(self, socket: WebSocket) -> None:
        logger.info("websocket token expired: closing", extra={"subject": self._subject})
        self.expired = True  # nothing more is sent on it
        task = asyncio.ensure_future(socket.close(code=4403, reason="token expired"))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def end(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        logger.info(
            "websocket closed",
            extra={
                "subject": self._subject,
                "duration_s": round(time.monotonic() - self.opened, 1),
                "subscriptions": self.subscriptions,
                "events": self.events,
                "compiled_events": self.compiled_events,
            },
        )

    @property
    def _subject(self) -> str | None:
        return self.principal.subject if self.principal is not None else None


class TextFrames(ASGIWebSocketAdapter):
    """graphql-transport-ws speaks text frames; the view's orjson encoder makes bytes (HTTP bodies)."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class TransportWS(BaseGraphQLTransportWSHandler[RequestContext, None]):
    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload")
        self._session.params = payload if isinstance(payload, dict) else {}
        await super().handle_connection_init(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        """Subscriptions only: a query or mutation sent here would skip admission control, budgets
        and the request log, so it is refused with an `error` and belongs on HTTP. A payload naming a
        manifest operation by id (an empty `query`: graphql-ws insists on the key) runs that operation's
        text, so a persisted-only client such as the workbench never sends a document here either."""
        document: DocumentNode | None = None
        if self.connection_acknowledged:
            found, document = await self._resolve_persisted(message)
            if not found:
                return
        if self.connection_acknowledged and not _is_subscription(message["payload"]):
            refusal = {
                "message": f"only subscriptions here: {_HTTP_ONLY}",
                "extensions": {"code": "BAD_REQUEST"},
            }
            await self.send_message(
                cast("Message", {"id": message["id"], "type": "error", "payload": [refusal]})
            )
            return
        before = len(self.operations)
        with handing_over(document):  # parsed and validated at start-up, and planned: its events run compiled
            await super().handle_subscribe(message)
        if len(self.operations) > before:
            self._session.subscriptions += 1

    async def _resolve_persisted(self, message: SubscribeMessage) -> tuple[bool, DocumentNode | None]:
        """Fill in the manifest text for an id-only subscribe, and hand back its prepared document;
        False (an `error` sent) when the id names no manifest operation."""
        payload = cast("dict[str, Any]", message["payload"])
        if payload.get("query"):
            return True, None
        sha256_hex = persisted_id(payload)
        if sha256_hex is None:
            return True, None  # no id either: Strawberry refuses the empty document
        persisted = getattr(self.view, "persisted", None)
        prepared = persisted.registry.get(sha256_hex) if persisted is not None else None
        if prepared is None:
            refusal = {"message": "PersistedQueryNotFound", "extensions": {"code": NOT_FOUND}}
            await self.send_message(
                cast("Message", {"id": message["id"], "type": "error", "payload": [refusal]})
            )
            return False, None
        payload["query"] = prepared.operation.body
        if payload.get("operationName") not in (None, prepared.operation.name):
            return True, None  # another name: Strawberry says it is not in the document
        return True, prepared.document

    async def send_message(self, message: Message) -> None:
        if self._session.expired:
            return  # closed 4403 when the token expired: the client reconnects with a new one
        if message["type"] in ("next", "error"):
            message = _coded(message)
            if message["type"] == "next":
                self._session.events += 1
                if served_by.get() == "compiled":
                    self._session.compiled_events += 1
            try:
                await self._write_audit()
            except AuditUnavailable as exc:  # no result leaves without its record (audit_writer.py)
                await self._refuse_unaudited(cast("dict[str, Any]", message)["id"], exc)
                return
        await super().send_message(message)

    async def _refuse_unaudited(self, operation_id: str, exc: AuditUnavailable) -> None:
        """The operation ends with a coded error in place of a result its audit records could not
        follow (as HTTP answers 503 AUDIT_UNAVAILABLE); its stream is stopped, the connection stays."""
        refusal = {"message": str(exc), "extensions": {"code": str(ErrorCode.AUDIT_UNAVAILABLE)}}
        operation = self.operations.get(operation_id)
        if operation is not None:
            operation.completed = True  # nothing more for this id, whatever the stream still yields
        await super().send_message(
            cast("Message", {"id": operation_id, "type": "error", "payload": [refusal]})
        )
        await self.cleanup_operation(operation_id)

    async def _write_audit(self) -> None:
        """The trail so far, written and started afresh: one connection, many results."""
        ctx = self.context
        records = ctx.audit.records()
        ctx.audit = AuditTrail(ctx.access, ctx.audit.request_id, operation="subscription")
        ctx.on_unmask = ctx.audit.unmasked
        if records:
            await ctx.request.state.audit_sink.write(records)

    @property
    def _session(self) -> SocketSession:
        session: SocketSession = self.context.request.scope[SESSION]
        return session


def persisted_id(payload: Mapping[str, Any]) -> str | None:
    """The manifest id a subscribe payload names: Apollo's `extensions.persistedQuery.sha256Hash` or
    GraphQL over HTTP's `documentId` (`sha256:<hex>`); None when it names none."""
    extensions = payload.get("extensions")
    apq = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    if isinstance(apq, dict) and isinstance(apq.get("sha256Hash"), str):
        return str(apq["sha256Hash"])
    document_id = payload.get("documentId")
    if isinstance(document_id, str) and document_id.startswith("sha256:"):
        return document_id.removeprefix("sha256:")
    return None


def _is_subscription(payload: Any) -> bool:
    """True unless the document parses to a query or mutation (a document that does not parse, or has no
    such operation, is Strawberry's to refuse: it closes the socket 4400)."""
    try:
        operation = get_operation_ast(parse(payload["query"]), payload.get("operationName"))
    except (GraphQLError, KeyError, TypeError, AttributeError):
        return True
    return operation is None or operation.operation is OperationType.SUBSCRIPTION


def _coded(message: Message) -> Message:
    raw = cast("dict[str, Any]", message)
    if raw["type"] == "error":
        return cast("Message", {**raw, "payload": [_code(e, pre_execution=True) for e in raw["payload"]]})
    payload = raw["payload"]
    if not payload.get("errors"):
        return message
    errors = [_code(e, pre_execution=False) for e in payload["errors"]]
    return cast("Message", {**raw, "payload": {**payload, "errors": errors}})


def _code(error: dict[str, Any], *, pre_execution: bool) -> dict[str, Any]:
    """The error with a public code. Uncoded before execution and with no path: the document or its
    variables were refused; anything else uncoded is a bug, masked like over HTTP."""
    extensions = error.get("extensions") or {}
    if extensions.get("code"):
        return error
    if pre_execution and not error.get("path"):
        message = str(error.get("message", ""))
        code: str = ErrorCode.GRAPHQL_VALIDATION_FAILED
        if message.startswith("Variable '"):
            code = ErrorCode.BAD_USER_INPUT
        elif message == "Subscription limit reached":  # Strawberry's per-connection cap
            code = TOO_MANY_SUBSCRIPTIONS
        return {**error, "extensions": {**extensions, "code": str(code)}}
    logger.error(
        "unexpected error in a subscription: %s", error.get("message"), extra={"path": error.get("path")}
    )
    kept = {k: v for k, v in error.items() if k in ("locations", "path")}
    return {"message": INTERNAL_MESSAGE, **kept, "extensions": {"code": str(ErrorCode.INTERNAL_SERVER_ERROR)}}
