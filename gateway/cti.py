"""`POST /cti/events`: the telephony platform tells the BFF which call each agent is on.

The body is signed with HMAC-SHA256 over `timestamp.body` with a shared secret, and the
timestamp must be within five minutes, so a captured event cannot be replayed later to open a
customer to an agent. Headers: `X-CTI-Timestamp` (Unix seconds) and
`X-CTI-Signature: v1=<hex>` (several comma-separated values allowed, for secret rotation).

The registry reports each change to the other replicas (`resolvers.call_feed`); a new ringing call
also starts the caller's screen pop at once (`gateway.ring_prefetch`), before the 204 goes back.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson
from starlette.requests import Request
from starlette.responses import Response

from backends.phones import national
from gateway.errors import error_response
from gateway.ring_prefetch import RingPrefetch
from resolvers.calls import CallRegistry

logger = logging.getLogger("tidegate.cti")

WINDOW_S = 300
MAX_BODY = 8 * 1024
EVENTS = ("CALL_RINGING", "CALL_ANSWERED", "CALL_ENDED")


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


@dataclass(frozen=True)
class CtiEvent:
    event: str
    agent_id: str
    call_id: str
    caller: str | None


def parse(body: bytes) -> CtiEvent:
    doc = orjson.loads(body)
    if not isinstance(doc, dict):
        raise ValueError("body must be a JSON object")
    event, agent, call = doc.get("event"), doc.get("agentId"), doc.get("callId")
    if event not in EVENTS:
        raise ValueError(f"event must be one of {', '.join(EVENTS)}")
    if not isinstance(agent, str) or not agent or not isinstance(call, str) or not call:
        raise ValueError("agentId and callId are required strings")
    raw = doc.get("callerNumber")
    if raw is not None and not isinstance(raw, str):
        raise ValueError("callerNumber must be a string")
    return CtiEvent(event, agent, call, national(raw) if raw else None)


class CtiEndpoint:
    def __init__(
        self, calls: CallRegistry, secrets: Sequence[str], clock: Callable[[], float] = time.time
    ) -> None:
        self.calls = calls
        self.secrets = [s for s in secrets if s]
        self.clock = clock

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
        except (ValueError, orjson.JSONDecodeError) as exc:
            return error_response(400, f"bad CTI event: {exc}")
        if event.event == "CALL_ENDED":
            self.calls.ended(event.agent_id, event.call_id)
        elif event.event == "CALL_ANSWERED":
            self.calls.answered(event.agent_id, event.call_id, event.caller)
        else:
            before = self.calls.current(event.agent_id)
            call = self.calls.ringing(event.agent_id, event.call_id, event.caller)
            prefetch: RingPrefetch | None = getattr(request.state, "ring_prefetch", None)
            if prefetch is not None and call is not before:  # a repeated event starts nothing
                prefetch.ringing(call)
        logger.info(
            "cti event", extra={"event": event.event, "agent_id": event.agent_id, "call_id": event.call_id}
        )
        return Response(status_code=204)
