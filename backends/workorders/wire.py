"""The work-order system's answers that are more than one record or an error.

A create under a `client_ref` already used is refused (HTTP 409, errcode 40903) with the existing
order's number: for a caller retrying a create whose answer it lost, that refusal *is* the answer,
so it is parsed here rather than mapped onto `InvalidRequest` with every other 4xx.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from backends.rest import decode
from infra.errors import BackendProtocolError
from infra.http.exchange import Answer

DUPLICATE_REF = 40903  # client_ref 已存在
MESSAGE_KEY = "errmsg"
_ORDER_NO = re.compile(r"[A-Za-z0-9-]{1,40}")


@dataclass(frozen=True, slots=True)
class ExistingOrder:
    """The order already filed under the reference a create carried."""

    order_no: str


def created(backend: str, response: Answer, operation: str) -> dict[str, Any] | ExistingOrder:
    """The new order's JSON; `ExistingOrder` when the reference was taken; else the mapped error."""
    if response.status_code == 409:
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        if isinstance(body, dict) and body.get("errcode") == DUPLICATE_REF:
            number = body.get("order_no")
            if not isinstance(number, str) or not _ORDER_NO.fullmatch(number):
                raise BackendProtocolError(backend, f"{operation}: 409 {DUPLICATE_REF} without an order_no")
            return ExistingOrder(number)
    found = decode(backend, response, operation, message_key=MESSAGE_KEY)
    if not isinstance(found, dict):
        raise BackendProtocolError(backend, f"{operation}: expected an object, got {type(found).__name__}")
    return found
