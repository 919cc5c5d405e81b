"""Helpers for the JSON/REST simulators: bodies, bounded batches, failures rendered as the product would."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from simulators.kit.runtime import Call, InjectedTimeout, SimFailure, garble


def json_response(payload: Any, status: int = 200, call: Call | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    if call is not None and call.garble:
        body = garble(body)
    return Response(body, status_code=status, media_type="application/json")


class BadRequest(Exception):
    """The caller's mistake: answered 4xx in the product's own error shape."""

    def __init__(self, message: str, status: int = 400, code: str = "INVALID_ARGUMENT") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    return body


def failure_status(exc: SimFailure) -> int:
    """Busy and injected errors are 503; a hang that finally answers is a 504."""
    return 504 if isinstance(exc, InjectedTimeout) else 503
