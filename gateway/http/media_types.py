"""Which media type a GraphQL answer is written in: the client's `Accept`, read as RFC 9110 reads it.

The GraphQL-over-HTTP draft defines two response types, and they differ in more than the name:

- `application/graphql-response+json`: the status code means something. A request error (a body
  that is not a GraphQL request, a document that does not parse or validate, variables that do not
  coerce) is a 4xx without `data`; a 2xx always carries `data`. Clients that ask for it can tell
  "your request is wrong" from "some fields failed" without reading the body.
- `application/json`: the legacy type every GraphQL client understands; a well-formed request is
  answered 200 whatever its GraphQL errors. Kept exactly as before for the clients that send
  `Accept: */*` (Apollo Client 3: the workbench), `application/json`, or no `Accept` at all (curl,
  the board, the CTI's scripts).

`negotiate` picks one by q-value, the most specific matching range deciding each type's q. On a tie
an explicitly named `application/graphql-response+json` wins (the spec's preference); a tie reached
only through wildcards (`*/*`, `application/*`) goes to `application/json`, because that is what a
client that names neither expects. Nothing acceptable: `None`, which the view answers 406
`NOT_ACCEPTABLE` (in `application/json`, the one type every client can read).

Written here on purpose: Starlette has no `Accept` parser, and the libraries that have one (werkzeug,
python-mimeparse) would be a runtime dependency for two media types and one header.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from strawberry.http.parse_content_type import parse_content_type


class MediaType(StrEnum):
    GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
    JSON = "application/json"

    @property
    def content_type(self) -> str:
        """The `Content-Type` header value: the spec's bodies are UTF-8, and we say so."""
        return f"{self.value}; charset=utf-8"


# Best first when the client ranks them equally by name (see the module doc for wildcards).
SERVER_PREFERENCE = (MediaType.GRAPHQL_RESPONSE_JSON, MediaType.JSON)

# One media range: type/subtype and its parameters; a comma inside a quoted parameter value does not
# end it.
_RANGE = re.compile(r'\s*((?:[^,"]|"(?:[^"\\]|\\.)*")+)')
_TOKEN = re.compile(r"^[A-Za-z0-9!#$&^_.+-]+$|^\*$")
_QVALUE = re.compile(r"^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")


@dataclass(frozen=True, slots=True)
class MediaRange:
    """One entry of an `Accept` header."""

    type: str
    subtype: str
    q: float

    def specificity(self, media_type: MediaType) -> int | None:
        """How precisely this range names `media_type` (2 exactly, 1 `type/*`, 0 `*/*`), or None."""
        kind, sub = media_type.value.split("/", 1)
        if self.type == "*":
            return 0 if self.subtype == "*" else None
        if self.type != kind:
            return None
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == sub else None


def parse_accept(header: str) -> list[MediaRange]:
    """The well-formed ranges of an `Accept` header, in order; malformed ones are left out (a client's
    typo in one range should not cost it the others)."""
    ranges: list[MediaRange] = []
    for match in _RANGE.finditer(header):
        media, *params = (part.strip() for part in match[1].split(";"))
        kind, slash, sub = media.lower().partition("/")
        if not slash or not _TOKEN.match(kind) or not _TOKEN.match(sub) or (kind == "*" != sub):
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                q = float(value) if _QVALUE.match(value) else -1.0
        if q >= 0:
            ranges.append(MediaRange(kind, sub, q))
    return ranges


# Header values remembered per process by `negotiate` and `mime_type`: clients send a handful of
# distinct ones, each read on every request; longer values are read each time, never remembered.
REMEMBERED_HEADERS = 256
REMEMBERED_HEADER_CHARS = 512


def negotiate(accept: str | None) -> MediaType | None:
    """The media type to answer in, or None when the client accepts neither.

    No `Accept` (or an empty one) is `application/json`, as the spec allows for clients that predate
    `application/graphql-response+json`. The answer depends on the header's text alone, so it is
    remembered per value (parsing the ranges cost about a tenth of the view's own CPU per request)."""
    if accept is None or not accept.strip():
        return MediaType.JSON
    if len(accept) <= REMEMBERED_HEADER_CHARS:
        return _negotiated(accept)
    return _negotiate(accept)


@lru_cache(maxsize=REMEMBERED_HEADERS)
def _negotiated(accept: str) -> MediaType | None:
    return _negotiate(accept)


def _negotiate(accept: str) -> MediaType | None:
    ranges = parse_accept(accept)
    best: tuple[float, int, int] | None = None
    chosen: MediaType | None = None
    for media_type in SERVER_PREFERENCE:
        matches = [(r.specificity(media_type), r.q) for r in ranges]
        found = [(specificity, q) for specificity, q in matches if specificity is not None]
        if not found:
            continue
        specificity, q = max(found)  # the most specific range decides (RFC 9110 §12.5.1)
        if q <= 0:
            continue
        # A tie: named exactly, graphql-response+json wins; reached through wildcards, plain JSON.
        favoured = (media_type is MediaType.GRAPHQL_RESPONSE_JSON) == (specificity == 2)
        rank = (q, specificity, int(favoured))
        if best is None or rank > best:
            best, chosen = rank, media_type
    return chosen


def mime_type(content_type: str) -> str:
    """A `Content-Type` value's media type, parameters dropped, exactly as Strawberry's
    `parse_content_type` reads it; remembered per value like `negotiate` (it builds an
    `email.message.Message` per call, and a POST is read twice: persisted-query resolution, then
    Strawberry's body parsing)."""
    if len(content_type) <= REMEMBERED_HEADER_CHARS:
        return _mime_type(content_type)
    return parse_content_type(content_type)[0]


@lru_cache(maxsize=REMEMBERED_HEADERS)
def _mime_type(content_type: str) -> str:
    return parse_content_type(content_type)[0]


def answer_media_type(headers: Mapping[str, str]) -> MediaType:
    """What to write an error in before the view has negotiated (a middleware's 401, 413): the
    client's choice when it has one, else `application/json`."""
    return negotiate(headers.get("accept")) or MediaType.JSON
