"""`RequestFactory`: one backend's `httpx.Request`s, built per call from what was prepared once.

Building `httpx.Request(method, "http://host/path", params=..., headers={...})` the plain way parses
and validates the whole URL character by character on every call, twice when there are `params` (once
for the URL, once more merging the query), and normalises the default headers anew: about 60 µs of a
call that costs the bare aiohttp floor about 125 µs in all (docs/benchmarks.md#backend-call-path).

Here the base URL is parsed and validated once per backend, by httpx, and each call's URL is that
parsed base with the call's path and query put in its place: httpx's `URL` is a wrapper around a
`ParseResult` named tuple, and `_replace` on the base's fills in the two parts without a new parse.
That touches one private attribute (`URL._uri_reference`), which is why
`tests/infra/test_request_factory.py` compares every URL built here with httpx's own parse of the
same call, so an httpx upgrade that changes it fails there, not on the wire. The query is encoded
exactly as httpx encodes `params` (the standard library's `urlencode`, httpx's value spelling);
anything but a flat mapping of plain values goes through httpx's own parse.

Bodies are encoded by httpx itself (`content=`, `json=`, `data=`), so what a backend receives is byte
for byte what it did before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

import httpx

# RFC 3986 path characters left as they are (httpx's own set for paths); anything else is escaped.
PATH_SAFE = "!$&'()*+,;=:@/"


class RequestFactory:
    def __init__(self, base_url: str, default_headers: dict[str, str]) -> None:
        self.base = base_url.rstrip("/")
        self._root = httpx.URL(self.base)  # parsed and validated once
        self._prefix = self._root.path.rstrip("/")  # a base with a path of its own: `http://h/api`
        self._headers = httpx.Headers(default_headers)

    def build(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        json: Any = None,
        data: dict[str, str] | None = None,
    ) -> httpx.Request:
        """The request `BackendHttp` sends: the default headers with `headers` over them (httpx's
        `Request` copies them, so the prepared set is never changed by a call or its tracing)."""
        if headers:
            merged = self._headers.copy()
            merged.update(headers)
        else:
            merged = self._headers
        return httpx.Request(
            method, self.url(path, params), headers=merged, content=content, json=json, data=data
        )

    def url(self, path: str, params: Any = None) -> httpx.URL:
        """`base + path` with `params` as its query, as `httpx.URL(base + path, params=params)` is."""
        query = _query(params) if params else None
        if (params and query is None) or any(c in path for c in "?#%"):  # rare shapes: httpx's parse
            return httpx.URL(self.base + path, params=params)
        url = httpx.URL.__new__(httpx.URL)
        url._uri_reference = self._root._uri_reference._replace(
            path=self._prefix + quote(path, safe=PATH_SAFE), query=query
        )
        return url


def _query(params: Any) -> str | None:
    """`params` as httpx would encode them, or None when they are not a flat mapping of plain values."""
    if not isinstance(params, Mapping):
        return None
    pairs = []
    for key, value in params.items():
        if value is True or value is False or value is None:
            text = "true" if value is True else "false" if value is False else ""
        elif isinstance(value, str | int | float):
            text = str(value)
        else:
            return None
        pairs.append((str(key), text))
    return urlencode(pairs)
