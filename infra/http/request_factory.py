"""`RequestFactory`: one backend's `Outgoing` requests, built per call from what was prepared once.

Building `httpx.Request(method, "http://host/path", params=..., headers={...})` the plain way parses
and validates the whole URL character by character on every call, twice when there are `params` (once
for the URL, once more merging the query), and normalises the default headers anew: about 60 µs of a
call that costs the bare aiohttp floor about 125 µs in all (docs/benchmarks.md#backend-call-path).

Here the base URL is parsed and validated once per backend, by httpx, and each call's URL is the
base's origin and path with the call's path and query appended as text: the path escaped with httpx's
own set of safe characters, the query encoded exactly as httpx encodes `params` (the standard
library's `urlencode`, spelled by `infra.http.form`, with httpx's value spelling). Anything else (a
nested or repeated query, a path that carries its own `?`, `#` or `%`) goes through httpx's own parse.
`tests/infra/test_request_factory.py` compares every URL built here with httpx's parse of the same
call, so an httpx upgrade that changes its spelling fails there, not on the wire.

Bodies are encoded as httpx encodes them (`content=` as is, `json=` compact UTF-8 JSON, `data=` a
form), with the same Content-Type, so what a backend receives is byte for byte what it did before;
Content-Length is the sender's to add.
"""

from __future__ import annotations

import json as stdlib_json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from infra.http.exchange import Outgoing
from infra.http.form import form_encode

# RFC 3986 path characters left as they are (httpx's own set for paths); anything else is escaped.
PATH_SAFE = "!$&'()*+,;=:@/"
# A path made only of characters `quote` leaves as they are (its unreserved ones and `PATH_SAFE`):
# `quote` would return it unchanged, so it is not called (two Python calls per backend call).
_UNCHANGED_PATH = re.compile(r"[A-Za-z0-9_.~\-" + re.escape(PATH_SAFE) + r"]*")
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


class RequestFactory:
    def __init__(self, base_url: str, default_headers: dict[str, str]) -> None:
        self.base = base_url.rstrip("/")
        root = httpx.URL(self.base)  # parsed and validated once
        # `http://h:8101` + the base's own path (`http://h/api`), as httpx spells them
        self._prefix = str(root.copy_with(query=None, fragment=None)).rstrip("/")
        self._headers = dict(httpx.Headers(default_headers).items())  # normalised once, never changed

    @property
    def default_headers(self) -> Mapping[str, str]:
        """The prepared default headers: the very mapping a call without headers of its own carries
        (an exchange may recognise it by identity and let its session send them)."""
        return self._headers

    def build(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        query: str | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
    ) -> Outgoing:
        """The request `BackendHttp` sends: the default headers with `headers` over them. Without
        headers of its own a call shares the prepared set, which nothing changes (tracing copies it
        before adding `traceparent`). `query`, in place of `params`: the query already encoded as
        `params` would be (`urlencode` of a flat mapping), by a caller that measured it."""
        merged: Mapping[str, str] = self._headers
        body = content
        if json is not None:
            body = stdlib_json.dumps(
                json, ensure_ascii=False, separators=(",", ":"), allow_nan=False
            ).encode()
            merged = {**merged, "Content-Type": JSON}
        elif data:
            pairs = [
                (str(key), _spelled(item))
                for key, value in data.items()
                for item in (value if isinstance(value, list | tuple) else (value,))
            ]
            body = form_encode(pairs).encode()
            merged = {**merged, "Content-Type": FORM}
        if headers:
            merged = {**merged, **headers}
        if query is not None:
            if params or "?" in path or "#" in path or "%" in path:
                raise ValueError("an encoded query goes with a plain path and no params")
            url = self.url(path)
            return Outgoing(method, f"{url}?{query}" if query else url, merged, body or None)
        return Outgoing(method, self.url(path, params), merged, body or None)

    def url(self, path: str, params: Any = None) -> str:
        """`base + path` with `params` as its query, as `str(httpx.URL(base + path, params=params))` is."""
        query = _query(params) if params else None
        if (params and query is None) or "?" in path or "#" in path or "%" in path:  # httpx's parse
            return str(httpx.URL(self.base + path, params=params))
        url = self._prefix + (path if _UNCHANGED_PATH.fullmatch(path) else quote(path, safe=PATH_SAFE))
        return f"{url}?{query}" if query else url


def _flat(values: Mapping[str, Any]) -> bool:
    for value in values.values():  # a loop, not `all()` over a generator: one call per request
        if value is not None and not isinstance(value, str | int | float | bool):
            return False
    return True


def _spelled(value: Any) -> str:
    """A plain value as httpx spells it in a query or a form: `true`, `false`, `` for None."""
    if value is True or value is False or value is None:
        return "true" if value is True else "false" if value is False else ""
    return str(value)


def _query(params: Any) -> str | None:
    """`params` as httpx would encode them, or None when they are not a flat mapping of plain values."""
    if not isinstance(params, Mapping) or not _flat(params):
        return None
    return form_encode([(str(key), _spelled(value)) for key, value in params.items()])
