"""`POST /cti/events`: the telephony platform tells the BFF which call each agent is on.

The body is signed with HMAC-SHA256 over `timestamp.body` with a shared secret, and the
timestamp must be within five minutes. Headers: `X-CTI-Timestamp` (Unix seconds) and
`X-CTI-Signature: v1=<hex>` (several comma-separated values allowed, for secret rotation).
Body: `{"eventId", "event", "agentId", "callId", "callerNumber"?}`.

Each event is good for one use, so a captured one cannot be replayed inside the window either:
`eventId` (required, 1-128 printable ASCII characters, unique per event, e.g. a UUID) is
remembered for twice the window (an event stamped t is accepted from t-300 s to t+300 s), in Redis
when configured so every replica knows it. Each call then moves through `services.call_machine`
(RINGING -> ANSWERED -> ENDED, ENDED terminal per callId, ended call ids remembered for an hour,
in Redis when configured). `CALL_TRANSFERRED` moves the call, with the customers it matched, to
`agentId` (the agents it left lose them; it rings there with a fresh screen pop);
`CALL_CONFERENCE_JOINED` shares the answered call with `agentId` until it ends; `CALL_ENDED` (for any
agent on it) takes it from every agent. Answers, each with `extensions.code`:

    204                               the event was applied (or repeated a state: nothing changed)
    400 BAD_REQUEST                   not a readable event
    400 CTI_EVENT_ID_REQUIRED         no usable `eventId`
    401 UNAUTHENTICATED               bad signature, stale timestamp, or no secret configured
    409 CTI_EVENT_REPLAYED            this `eventId` was used before: nothing changed
    409 CTI_CALL_ENDED                the call has ended: no event opens it again
    409 CTI_EVENT_OUT_OF_ORDER        e.g. RINGING after ANSWERED: nothing changed
    503 BACKEND_UNAVAILABLE           the shared store did not answer: retry with the same event

The registry reports each change to the other replicas (`services.call_feed`); a new ringing call
also starts the caller's screen pop at once (`gateway.live.ring_prefetch`), before the 204 goes back.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson
from starlette.requests import Request
from starlette.responses import Response

from domain.phones import national
from gateway.http.errors import error_response
from gateway.live.ring_prefetch import RingPrefetch
from services.call_machine import CallEvent, Refusal
from services.calls import CallRefused, CallRegistry
from services.cti_event_store import (
    Admission,
    CtiEventStore,
    CtiEventStoreUnavailable,
    MemoryCtiEventStore,
)
from services.errors import ErrorCode

logger = logging.getLogger("tidegate.cti")

WINDOW_S = 300
SEEN_TTL_S = 2 * WINDOW_S  # an id outlives every timestamp the window would still accept
ENDED_TTL_S = 3600  # at least the window; ended call ids are cheap to keep
MAX_BODY = 8 * 1024
EVENTS = {
    "CALL_RINGING": CallEvent.RINGING,
    "CALL_ANSWERED": CallEvent.ANSWERED,
    "CALL_ENDED": CallEvent.ENDED,
    "CALL_TRANSFERRED": CallEvent.TRANSFERRED,  # `agentId`: the agent the call goes to
    "CALL_CONFERENCE_JOINED": CallEvent.CONFERENCE_JOINED,  # `agentId`: the agent who joins
}
STORE_STATE = "cti_events"  # the lifespan state's key for the shared `CtiEventStore`
_EVENT_ID = re.compile(r"[!-~]{1,128}")  # printable ASCII, no spaces: a safe store key
EVENT_REPLAYED = ErrorCode.CTI_EVENT_REPLAYED
EVENT_ID_REQUIRED = ErrorCode.CTI_EVENT_ID_REQUIRED


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """What the CTI sends in `X-CTI-Signature` (tests and the demo's softphone use this too)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(secrets: Sequence[str], timestamp: str, signature: str, body: bytes, now: float) -> str | None:
    """None when the event is authentic and fresh; otherwise why not."""
    if not timestamp.isdigit():
        return "missing or malformed X-CTI-Timestamp"
    if abs(now - int(timestamp)) > WINDOW_S:
        return "timestamp outside the 5-minute window"
    offered = [s.strip() for s in signature.split(",") if s.strip()]
    expected = [sign(secret, timestamp, body) for secret in secrets]
    if not any(hmac.compare_digest(o, e) for o in offered for e in expected):
        return "bad signature"
    return None


def signed_event(
    secret: str,
    event: str,
    agent_id: str,
    call_id: str,
    caller: str | None = None,
    *,
    event_id: str | None = None,
    timestamp: int | None = None,
) -> tuple[bytes, dict[str, str]]:
    """An event as the CTI sends it, body and headers, with a fresh id unless one is given (the
    `tidegate cti` command, the tests and the benchmarks all send through this)."""
    doc = {
        "eventId": event_id or uuid.uuid4().hex,
        "event": event,
        "agentId": agent_id,
        "callId": call_id,
        "callerNumber": caller,
    }
    body = orjson.dumps(doc)
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "Content-Type": "application/json",
        "X-CTI-Timestamp": stamp,
        "X-CTI-Signature": sign(secret, stamp, body),
    }
    return body, headers


class BadEvent(ValueError):
    """The signed body is not a usable event; `code` says how to tell the CTI."""

    def __init__(self, message: str, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class CtiEvent:
    event_id: str
    event: CallEvent
    agent_id: str
    call_id: str
    caller: str | None


def parse(body: bytes) -> CtiEvent:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadEvent(f"not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise BadEvent("body must be a JSON object")
    event_id = doc.get("eventId")
    if not isinstance(event_id, str) or not _EVENT_ID.fullmatch(event_id):
        raise BadEvent("eventId is required: 1-128 printable ASCII characters", EVENT_ID_REQUIRED)
    event, agent, call = doc.get("event"), doc.get("agentId"), doc.get("callId")
    if event not in EVENTS:
        raise BadEvent(f"event must be one of {', '.join(EVENTS)}")
    if not isinstance(agent, str) or not agent or not isinstance(call, str) or not call:
        raise BadEvent("agentId and callId are required strings")
    raw = doc.get("callerNumber")
    if raw is not None and not isinstance(raw, str):
        raise BadEvent("callerNumber must be a string")
    return CtiEvent(event_id, EVENTS[event], agent, call, national(raw) if raw else None)


def memory_store() -> MemoryCtiEventStore:
    """This process's own store: the default without Redis."""
    return MemoryCtiEventStore(seen_ttl_s=SEEN_TTL_S, ended_ttl_s=ENDED_TTL_S)


class CtiEndpoint:
    """The route's handler. The event store comes from the lifespan's state (`STORE_STATE`, shared
    through Redis when configured); without one (no lifespan ran) the endpoint keeps its own."""

    def __init__(
        self, calls: CallRegistry, secrets: Sequence[str], clock: Callable[[], float] = time.time
    ) -> None:
        self.calls = calls
        self.secrets = [s for s in secrets if s]
        self.clock = clock
        self._own_store = memory_store()

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY:
            return error_response(413, "event too large")
        problem = verify(
            self.secrets,
            request.headers.get("x-cti-timestamp", ""),
            request.headers.get("x-cti-signature", ""),
            body,
            self.clock(),
        )
        if problem is not None or not self.secrets:
            logger.warning("cti event refused", extra={"reason": problem or "no CTI secret configured"})
            return error_response(401, "CTI event not authenticated", "UNAUTHENTICATED")
        try:
            event = parse(body)
        except BadEvent as exc:
            return error_response(400, f"bad CTI event: {exc}", exc.code)
        store: CtiEventStore = getattr(request.state, STORE_STATE, None) or self._own_store
        try:
            admission = await store.admit(
                event.event_id, event.call_id, ends_call=event.event is CallEvent.ENDED
            )
        except CtiEventStoreUnavailable as exc:
            logger.error("cti event not checked: %s", exc)
            return error_response(503, "CTI events cannot be checked now: retry", exc.code)
        if admission is Admission.REPLAYED:
            return self._refused(event, EVENT_REPLAYED, "this eventId was used before")
        if admission is Admission.CALL_ENDED:  # ended on any replica: a second end changes nothing too
            return self._refused(event, Refusal.CALL_ENDED, "the call has ended")
        try:
            self._apply(event, request)
        except CallRefused as exc:
            return self._refused(event, exc.code, str(exc))
        logger.info(
            "cti event", extra={"event": event.event, "agent_id": event.agent_id, "call_id": event.call_id}
        )
        return Response(status_code=204)

    def _apply(self, event: CtiEvent, request: Request) -> None:
        if event.event is CallEvent.ENDED:
            self.calls.ended(event.agent_id, event.call_id)
            return
        if event.event is CallEvent.ANSWERED:
            self.calls.answered(event.agent_id, event.call_id, event.caller)
            return
        before = self.calls.current(event.agent_id)
        if event.event is CallEvent.TRANSFERRED:
            call = self.calls.transferred(event.agent_id, event.call_id)
        elif event.event is CallEvent.CONFERENCE_JOINED:
            call = self.calls.conference_joined(event.agent_id, event.call_id)
        else:
            call = self.calls.ringing(event.agent_id, event.call_id, event.caller)
        prefetch: RingPrefetch | None = getattr(request.state, "ring_prefetch", None)
        if prefetch is not None and call is not before:  # a repeated event starts nothing
            prefetch.ringing(call)  # the agent it rings at (or who joins) gets the call's pop

    def _refused(self, event: CtiEvent, code: str, why: str) -> Response:
        """A 409: the event was authentic but changes nothing; logged without the caller."""
        where = {"event": event.event, "agent_id": event.agent_id, "call_id": event.call_id}
        logger.warning("cti event refused", extra={"reason": code, **where})
        return error_response(409, f"CTI event refused: {why}", code)
