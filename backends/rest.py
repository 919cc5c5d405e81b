"""The JSON/REST back ends' common ground: status codes to the error tree, bodies decoded safely,
records mapped with any shape error reported as the vendor's protocol error."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import orjson

from backends.codes import CodeTables
from infra.errors import BackendProtocolError, BackendServerError, InvalidRequest, NotFound
from infra.http.client import BackendHttp
from infra.http.exchange import Answer

T = TypeVar("T")
Mapper = Callable[[CodeTables, dict[str, Any]], T]


def decode(backend: str, response: Answer, operation: str, *, message_key: str) -> Any:
    """The JSON body of a 2xx answer; otherwise the vendor's error mapped onto our tree."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        if response.status_code >= 500:
            raise BackendServerError(backend, f"{operation}: HTTP {response.status_code}") from exc
        raise BackendProtocolError(backend, f"{operation}: body is not JSON ({exc})") from exc
    status = response.status_code
    if 200 <= status < 300:
        return body
    detail = body.get(message_key) if isinstance(body, dict) else None
    message = f"{operation}: HTTP {status}: {detail or 'no detail'}"
    if status == 404:
        raise NotFound(backend, message)
    if 400 <= status < 500:
        raise InvalidRequest(backend, message)
    raise BackendServerError(backend, message, vendor_code=str(status))


class RestApi:
    """One vendor's JSON API as a client sees it: requests in, mapped domain records out."""

    def __init__(self, http: BackendHttp, tables: CodeTables, *, message_key: str, max_batch: int) -> None:
        self.http = http
        self.tables = tables
        self.name = http.name
        self.message_key = message_key
        self.max_batch = max_batch

    def check_batch(self, keys: Sequence[object]) -> None:
        if not 1 <= len(keys) <= self.max_batch:
            raise ValueError(f"{self.name}: batches take 1..{self.max_batch} keys, got {len(keys)}")

    async def get(self, operation: str, path: str, params: dict[str, str | int] | None = None) -> Any:
        """A read: retried after a transient failure."""
        return await self.http.fetch(
            "GET", path, lambda r: self._decode(r, operation), idempotent=True, params=params
        )

    async def post(
        self, operation: str, path: str, payload: dict[str, Any], *, idempotent: bool = False
    ) -> Any:
        """A write unless told otherwise (a POST that only reads passes `idempotent=True`): a retried
        write could act twice, so it is tried once."""
        return await self.http.fetch(
            "POST", path, lambda r: self._decode(r, operation), idempotent=idempotent, json=payload
        )

    def _decode(self, response: Answer, operation: str) -> Any:
        return decode(self.name, response, operation, message_key=self.message_key)

    def field(self, body: Any, key: str, kind: type, operation: str) -> Any:
        """`body[key]` when it has the expected JSON type; a protocol error otherwise."""
        value = body.get(key) if isinstance(body, dict) else None
        if not isinstance(value, kind):
            raise BackendProtocolError(
                self.name, f"{operation}: expected {key!r} as {kind.__name__}, got {value!r}"
            )
        return value

    def rows(self, body: Any, key: str, fn: Mapper[T], operation: str) -> list[T]:
        return [self.record(fn, row, operation) for row in self.field(body, key, list, operation)]

    def record(self, fn: Mapper[T], row: Any, operation: str) -> T:
        if not isinstance(row, dict):
            raise BackendProtocolError(
                self.name, f"{operation}: expected an object, got {type(row).__name__}"
            )
        try:
            return fn(self.tables, row)
        except (KeyError, TypeError, ValueError) as exc:
            raise BackendProtocolError(self.name, f"{operation}: malformed record: {exc!r}") from exc
