"""`GraphQLView`: Strawberry's ASGI view, made strict about HTTP and about error codes.

What it changes from Strawberry's defaults (0.341):
- GraphQL over HTTP's media types (`gateway.http.media_types`): `Accept` picks
  `application/graphql-response+json` (a request error is 400 without `data`) or `application/json`
  (every GraphQL result 200, as before), nothing acceptable is 406; every answer but the GraphiQL
  page is written in the negotiated type, with `charset=utf-8` (`gateway.http.graphql_response`);
- bad HTTP input gets a coded JSON error (Strawberry answers plain text, and a JSON body that is
  a string or a number crashes it with a 500); a non-JSON POST is 415, not 400;
- GraphiQL only for a browser (`Accept: text/html`), never for `*/*`, and our offline page, only when
  enabled (dev mode and the demo); otherwise that browser gets a coded 404;
- persisted queries (`gateway.persisted.queries`): each request's document is resolved (manifest id,
  APQ hash, `documentId`, the caller's safelist) before admission, so classification and the
  screen-pop check see the resolved text, and a manifest operation runs pre-parsed and pre-validated;
  a POST of one with a compiled plan calls Strawberry's hooks itself, without `run`'s generic steps
  (`_run_planned`: the softphone's hot path);
- HTTP conventions: a GET needs a preflight header or a non-simple content type (`gateway.http.csrf`), runs
  queries only (a mutation is 405 `Allow: POST`); `apollographql-client-name`/`-version` reach the log;
- every GraphQL error carries `extensions.code` (`gateway.http.errors.public_error`);
- the context is `services.context.build_context`, built per request inside its event loop;
- JSON through orjson, and one log line per request (`gateway.observability.logging`);
- subscriptions over graphql-transport-ws only, authenticated in `connection_init` (not by
  `BearerAuth`, which a browser's websocket cannot satisfy) and held to `gateway.live.ws_session`'s rules;
  they stay out of HTTP admission control, capped per connection and per client instead.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import OperationType as CoreOperationType
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.types import HTTPMethod
from strawberry.schema import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from gateway.http.client_identity import client_identity
from gateway.http.csrf import require_preflight
from gateway.http.errors import (
    INTERNAL_MESSAGE,
    BadRequest,
    NotAcceptable,
    UnsupportedMediaType,
    error_response,
    http_code,
    public_error,
)
from gateway.http.graphiql import graphiql_disabled, graphiql_response, is_page_request
from gateway.http.graphql_request import is_screen_pop, query_of, request_data
from gateway.http.graphql_response import keeps_data, refusal_status, result_status
from gateway.http.media_types import MediaType, mime_type, negotiate
from gateway.http.request_end import finish_request, metrics_of
from gateway.limits.admission import AdmissionBuckets, classify, rate_limited
from gateway.live.ws_session import SocketGate, TextFrames, TransportWS
from gateway.observability.audit_writer import AuditUnavailable
from gateway.observability.heap import release_frames
from gateway.observability.logging import RequestRecord, current_request
from gateway.observability.operation_attributes import name_operation
from gateway.observability.tracing import operation_span
from gateway.persisted.compiled_operation import CompiledOperation
from gateway.persisted.prepared_document import handing_over
from gateway.persisted.queries import PersistedQueries, Resolution, current_resolution, request_fields
from infra.deadline import deadline
from infra.resilience.gcra import Limit
from infra.resilience.priority import OperationClass, operation_class
from infra.resilience.ratelimit import RateLimiter
from schema.compiled import served_by
from services.access import Access
from services.calls import CallRegistry
from services.context import RequestContext, build_context
from services.errors import ErrorCode
from services.prefetch import prime_answered_pop

logger = logging.getLogger("tidegate.graphql")

_OVER_WEBSOCKET = "subscribe over graphql-transport-ws, a websocket on /graphql"
_NOT_ACCEPTABLE = (
    "This endpoint answers in application/graphql-response+json or application/json: accept one "
    "of them (or send no Accept header)"
)


class GraphQLView(GraphQL[RequestContext, None]):
    graphql_transport_ws_handler_class = TransportWS
    websocket_adapter_class = TextFrames

    def __init__(
        self,
        schema: BaseSchema,
        *,
        graphiql: bool,
        calls: CallRegistry,
        limits: dict[str, Limit],
        budgets: dict[OperationClass, float] | None = None,
        budget_reserve_s: float = 0.0,
        sockets: SocketGate | None = None,
        subscriptions_per_connection: int = 10,
        subscription_init_timeout_s: float = 10.0,
        persisted: PersistedQueries | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",  # a browser's page request reaches `render_graphql_ide`: page or 404
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=subscription_init_timeout_s),
            max_subscriptions_per_connection=subscriptions_per_connection,
        )
        self.calls = calls
        self.limits = limits
        self._buckets = AdmissionBuckets(limits)
        self.budgets = budgets or {}
        self.budget_reserve_s = budget_reserve_s
        self.sockets = sockets  # None: no websockets (a test's app without the gate)
        self.graphiql = graphiql
        self.persisted = persisted  # None: no persisted queries (every document free-form)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        started = time.perf_counter()
        record = RequestRecord()
        token, resolved = current_request.set(record), current_resolution.set(None)
        try:
            async with operation_span(scope, record) as span:  # a SERVER span when tracing is on
                response = await self._answer(Request(scope, receive), record, started)
                span.answered(response)
        finally:
            current_resolution.reset(resolved)
            current_request.reset(token)
        if response.media_type != "text/html":  # the GraphiQL page is not a GraphQL request
            elapsed = time.perf_counter() - started
            finish_request(scope, record, status=response.status_code, duration_s=elapsed)
        await response(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.sockets is None:
            await WebSocket(scope, receive, send).close(code=1008)  # refused at the handshake (HTTP 403)
            return
        with self.sockets.session(scope):
            await super().__call__(scope, receive, send)

    async def on_ws_connect(self, context: RequestContext) -> UnsetType | dict[str, object] | None:
        assert self.sockets is not None  # `_websocket` lets no socket through without the gate
        await self.sockets.connect(context)
        unset: UnsetType = UNSET  # connection_ack without a payload
        return unset

    async def _answer(self, request: Request, record: RequestRecord, started: float) -> Response:
        """Run the operation; turn every failure outside GraphQL execution into a coded error, all
        written in the media type the client accepts (`application/json` until that is known)."""
        media_type = MediaType.JSON
        fields: dict[str, Any] | None = None  # the body's fields, read once for every step below
        try:
            record.client_name, record.client_version = client_identity(request.headers)
            if not self.should_render_graphql_ide(request):
                media_type = _accepted(request)
                _state(request)["media_type"] = media_type  # for `process_result`
                if request.method == "GET":
                    require_preflight(request.method, request.headers)
                if self.persisted is not None:  # before admission: it classifies the resolved text
                    # Unreadable fields (None) resolve to nothing: Strawberry's run answers the 4xx.
                    fields = await request_fields(request)
                    if fields is not None:
                        principal, store = request.scope.get("principal"), _state(request).get("apq_store")
                        current_resolution.set(await self.persisted.resolve_fields(fields, principal, store))
            op_class, refused = await self._admit(request, record)
            if refused is not None:
                refused.headers["content-type"] = media_type.content_type
                return refused
            # The operation's time budget, counted from arrival less a reserve for assembling the
            # answer: backend calls get what is left, late ones cost their fields (or serve stale).
            budget = self.budgets.get(op_class) if op_class else None
            if budget is not None:
                budget -= time.perf_counter() - started + self.budget_reserve_s
            with deadline(budget), operation_class(str(op_class) if op_class else None):
                compiled = _planned(current_resolution.get())
                if (
                    compiled is not None
                    and fields is not None
                    and request.method == "POST"
                    and _runs_here(compiled.kind, "POST")
                ):
                    return await self._run_planned(request, fields)
                return _written(await self.run(request), request)
        except BadRequest as exc:
            record.codes.append(exc.code)
            headers = exc.headers or ({"Allow": "GET, POST"} if exc.status_code == 405 else None)
            status = refusal_status(exc.status_code, exc.code, media_type)
            return error_response(
                status, exc.message, exc.code, headers, content_type=media_type.content_type
            )
        except HTTPException as exc:
            status, code = exc.status_code, http_code(exc.status_code)
            record.codes.append(code)
            headers = {"Allow": "GET, POST"} if status == 405 else None
            return error_response(status, exc.reason, code, headers, content_type=media_type.content_type)
        except Exception:
            logger.exception(
                "request failed outside GraphQL execution", extra={"operation": record.operation}
            )
            record.codes.append(ErrorCode.INTERNAL_SERVER_ERROR)
            return error_response(500, INTERNAL_MESSAGE, content_type=media_type.content_type)

    async def _admit(
        self, request: Request, record: RequestRecord
    ) -> tuple[OperationClass | None, Response | None]:
        """The operation's class, and a refusal when its buckets are empty (None: go ahead)."""
        if self.should_render_graphql_ide(request):
            return None, None
        query, operation = await query_of(request)
        if query is None:
            return None, None  # not a GraphQL operation: the view answers the coded 4xx itself
        op_class = classify(query, operation)
        record.operation, record.operation_class = operation, str(op_class)  # refusals are named too
        limiter: RateLimiter | None = _state(request).get("limiter")
        if limiter is None:
            return op_class, None
        principal = request.scope.get("principal")
        client = principal.subject if principal is not None else "anonymous"
        decision = await limiter.acquire(self._buckets(client, op_class))
        if (metrics := metrics_of(request.scope)) is not None:
            metrics.admission(str(op_class), admitted=decision.allowed)
        if decision.allowed:
            return op_class, None
        record.codes.append("RATE_LIMITED")
        return op_class, rate_limited(op_class, decision.retry_after_s)

    async def _run_planned(self, request: Request, fields: dict[str, Any]) -> Response:
        """Strawberry's `run` for a POST of a planned manifest operation (the softphone's screen pop:
        the hot path), its hooks called in its order: sub-response, context, body, execution,
        `process_result`, `_handle_errors`, `create_response` (and `_written`'s media type and status,
        in one response: `_planned_response`).

        Why: `run` is written for every kind of request, and for this one most of its steps decide
        nothing while costing about a tenth of the HTTP pipeline's CPU (issue 21): a request adapter,
        the IDE and method checks (a POST is neither a page nor refused), the body parsed again
        through the adapter (`fields`: the persisted look-up's, one JSON object), the batch and stream
        checks (`request_data` never asks for a stream) and `isinstance` against
        Strawberry's runtime-checkable result protocols. `get_root_value` is None for every request.
        `tests/gateway/test_planned_run.py` holds this path's answers (data, errors, status,
        headers) equal to `run`'s."""
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, response=sub_response)
        result = await self._execute("POST", context, self._request_data(fields))
        response_data = await self.process_result(request=request, result=result)
        if result.errors:
            self._handle_errors(result.errors, response_data)
        return self._planned_response(request, response_data, sub_response)

    def _planned_response(
        self, request: Request, response_data: GraphQLHTTPResponse, sub_response: Response
    ) -> Response:
        """`_written(create_response(...))` built once: the body in the negotiated media type, with the
        status `process_result` judged (which `_written` puts over any a resolver set), then the
        headers a resolver set on the sub-response, but for a content type (`_written`'s replaces
        it). Strawberry's builds a response in `application/json` whose headers `_written` then
        rewrites through Starlette's `MutableHeaders`."""
        state = _state(request)
        media_type: MediaType = state["media_type"]
        response = Response(
            self.encode_json(response_data),
            status_code=state["graphql_status"],
            media_type=media_type.content_type,
        )
        response.raw_headers.extend(
            (name, value) for name, value in sub_response.raw_headers if name != b"content-type"
        )
        if sub_response.background:
            response.background = sub_response.background
        return response

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: RequestContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Strawberry's, minus subscriptions: over HTTP one would run as a query of its first event.
        A persisted operation's document is handed over parsed and validated
        (`gateway.persisted.prepared_document`)."""
        return await self._execute(request_adapter.method, context, request_data)

    async def _execute(
        self, method: HTTPMethod, context: RequestContext, request_data: GraphQLRequestData
    ) -> ExecutionResult:
        served_by.set(None)
        try:
            return await self._execute_single(method, context, request_data)
        finally:
            if (record := current_request.get()) is not None:
                record.executor = served_by.get()  # None: refused before anything executed

    async def _execute_single(
        self, method: HTTPMethod, context: RequestContext, request_data: GraphQLRequestData
    ) -> ExecutionResult:
        resolution = current_resolution.get()
        compiled = _planned(resolution)
        if compiled is not None and _runs_here(compiled.kind, method):
            result = await compiled.execute(context, request_data.variables)
            if result is not None:  # None: its variables do not coerce; the executor says why
                kind = compiled.kind.value
                if (record := current_request.get()) is not None:  # what `ErrorCodes` notes otherwise
                    record.operation, record.operation_type = compiled.name, kind
                name_operation(kind, compiled.name)
                return result
        try:
            with handing_over(resolution.document if resolution is not None else None):
                return await self.schema.execute(
                    request_data.query,
                    root_value=None,
                    variable_values=request_data.variables,
                    context_value=context,
                    operation_name=request_data.operation_name,
                    allowed_operation_types=OperationType.from_http(method) - {OperationType.SUBSCRIPTION},
                    operation_extensions=request_data.extensions,
                )
        except CannotGetOperationTypeError as exc:
            raise BadRequest(exc.as_http_error_reason()) from exc
        except InvalidOperationTypeError as exc:
            if method == "GET" and exc.operation_type is OperationType.MUTATION:
                message = f"{exc.as_http_error_reason('GET')}: POST it"
                raise BadRequest(message, 405, headers={"Allow": "POST"}) from exc
            raise BadRequest(f"{exc.as_http_error_reason(method)}: {_OVER_WEBSOCKET}") from exc
        except MissingQueryError as exc:
            raise BadRequest("No GraphQL query found in the request") from exc

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        # Backends are opened once by the app's lifespan and handed to each request's state.
        # The principal comes from the bearer token; an agent's reach, from their current call.
        principal = request.scope.get("principal")
        call = self.calls.current(principal.agent_id) if principal is not None else None
        if call is not None and (record := current_request.get()) is not None:
            record.call_id = call.call_id  # ties the request's log line to the phone call
        state = _state(request)
        context = build_context(
            state["backends"],
            request,
            response,
            access=Access(principal, call),
            reads=state["reads"],
            live=state.get("live"),
        )
        if call is not None and isinstance(request, Request) and await is_screen_pop(request):
            await prime_answered_pop(context)  # the ring-time pop of this call, if one was kept
        state["graphql_context"] = context
        return context

    async def get_root_value(self, request: Request | WebSocket) -> None:
        return None

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)  # orjson.JSONDecodeError is a json.JSONDecodeError

    def should_render_graphql_ide(self, request: Any) -> bool:
        # Strawberry also renders it for `Accept: */*` (curl, scripts): those want JSON. The same
        # test lets the page through `BearerAuth`, so it must never match a runnable request. Asked
        # three times per request: a POST (never a page) skips building the query parameters.
        method = request.method
        return method == "GET" and is_page_request(method, request.query_params, request.headers)

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql_response() if self.graphiql else graphiql_disabled()

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        if request.method == "GET":
            data: object = self.parse_query_params(request.query_params)
        else:
            if mime_type(request.content_type or "") != "application/json":
                raise UnsupportedMediaType("POST a JSON body with Content-Type: application/json")
            data = self.parse_json(await request.get_body())
        return self._request_data(data)

    def _request_data(self, data: object) -> GraphQLRequestData:
        """The request's fields checked (`request_data`), a persisted request's document put in."""
        parsed = request_data(data)
        resolution = current_resolution.get()
        if resolution is not None:  # the persisted document's text (a hash-only request sent none)
            parsed.query, parsed.operation_name = resolution.query, resolution.operation_name
        record = current_request.get()
        if record is not None:
            record.operation = parsed.operation_name
        return parsed

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        record = current_request.get() or RequestRecord()
        state = _state(request)
        context: RequestContext | None = state.get("graphql_context")
        state["graphql_context"] = None  # the context holds the request: no cycle outlives it
        if context is not None:  # every unmasked read and refusal, before the answer leaves
            context.audit.operation = record.operation
            try:
                await state["audit_sink"].write(context.audit.records())
            except AuditUnavailable as exc:  # no answer leaves without its record (audit_writer.py)
                raise BadRequest(
                    str(exc), 503, code=ErrorCode.AUDIT_UNAVAILABLE, headers={"Retry-After": "5"}
                ) from exc
        # A request error has no `data` in graphql-response+json; application/json keeps its null.
        media_type: MediaType = state.get("media_type", MediaType.JSON)
        response: GraphQLHTTPResponse = {"data": result.data} if keeps_data(result, media_type) else {}
        codes: list[str] = []
        if result.errors:
            errors = [public_error(error, record.operation) for error in result.errors]
            codes = [error["extensions"]["code"] for error in errors]
            record.codes.extend(codes)
            response["errors"] = list(errors)
        state["graphql_status"] = result_status(result, codes, media_type)  # for `_written`
        if result.errors:
            release_frames(result.errors)
        if context is not None:
            context.loaders.release()
        extensions = dict(result.extensions or {})
        if context is not None and (stale := context.freshness.report()):
            extensions["stale"] = stale  # the paths served from cache past their freshness, and how old
        if extensions:
            response["extensions"] = extensions
        return response


def _state(request: Request | WebSocket) -> dict[str, Any]:
    """The request's state as the dict it is: `scope["state"]`, the lifespan's values (the backends,
    the limiter, the audit sink), copied per request by the server, and what this view notes there for
    its later hooks (the media type, the context, the status). `request.state` is the same dict behind
    a Python `__getattr__` and a property per read: about fifteen reads a request (issue 21)."""
    state: dict[str, Any] = request.scope.setdefault("state", {})
    return state


def _accepted(request: Request) -> MediaType:
    """The response media type the client's `Accept` asks for; 406 when it accepts neither."""
    media_type = negotiate(request.headers.get("accept"))
    if media_type is None:
        raise NotAcceptable(_NOT_ACCEPTABLE)
    return media_type


def _written(response: Response, request: Request) -> Response:
    """Strawberry's answer, in the negotiated media type and with the status its result calls for
    (`process_result` judged it). The GraphiQL page and its 404 were never negotiated: as they are."""
    state = _state(request)
    media_type: MediaType | None = state.get("media_type")
    if media_type is None:
        return response
    response.headers["content-type"] = media_type.content_type
    status: int | None = state.get("graphql_status")
    if status is not None:
        response.status_code = status
    return response


def _planned(resolution: Resolution | None) -> CompiledOperation | None:
    return resolution.compiled if resolution is not None else None


def _runs_here(kind: CoreOperationType, method: str) -> bool:
    """Whether a compiled operation answers this request itself: a query by GET or POST, a mutation
    by POST. Anything else (a mutation by GET, a subscription over HTTP) goes to Strawberry, whose
    refusal is coded and carries its Allow header."""
    if kind is CoreOperationType.QUERY:
        return True
    return kind is CoreOperationType.MUTATION and method == "POST"
