"""`RequestFactory` builds the very request the plain `httpx.Request(...)` call built: same URL (it
spells URLs itself as httpx does, so this is the test an httpx upgrade that changes the spelling
fails), same headers, same body bytes."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, quote_plus, urlencode

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.http.form import form_encode, form_quote
from infra.http.request_factory import PATH_SAFE, RequestFactory

BASES = ("http://127.0.0.1:8102", "http://crm.test/", "https://gis.example:8443/arcgis/")
SHAPES: tuple[tuple[str, Any], ...] = (
    ("/api/v1/contacts", {"phone": "13800138000"}),
    ("/rest/services/Water/MapServer/3/query", {"where": "ACCOUNT_NO IN ('1','2')", "f": "json", "n": 3}),
    ("/q", {"on": True, "off": False, "none": None, "ratio": 1.5, "odd": "a+b/c%d &e=f#g"}),
    ("/路径/with space", {"名": "值"}),
    (
        "/Water/MapServer/2/query",
        {"where": "ACCOUNT_NO IN ('0000000001','0002')", "f": "json", "x": "a+b/%&=#"},
    ),
    ("/orders/WO-2026-000001", None),
    ("/api", {}),
    ("/list", [("k", "1"), ("k", "2")]),  # not a mapping: httpx's own parse
    ("/multi", {"k": ["1", "2"]}),  # a list value: httpx's own parse
    ("/escaped%2Fpath", None),
    ("/has?query=1", None),
)


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize(("path", "params"), SHAPES)
def test_each_url_is_the_one_httpx_parses(base: str, path: str, params: Any) -> None:
    factory = RequestFactory(base, {"User-Agent": "tidegate-bff"})
    ours = httpx.URL(factory.url(path, params))
    theirs = httpx.URL(base.rstrip("/") + path, params=params)
    assert factory.url(path, params) == str(theirs) and ours == theirs
    assert (ours.scheme, ours.host, ours.port, ours.raw_path) == (
        theirs.scheme,
        theirs.host,
        theirs.port,
        theirs.raw_path,
    )
    assert ours.params == theirs.params


@pytest.mark.parametrize(
    "char", [chr(code) for code in range(32, 127) if chr(code) not in "?#%"] + ["中", "é"]
)
def test_a_path_is_escaped_as_quote_escapes_it_whatever_its_characters(char: str) -> None:
    """A path of characters `quote` leaves alone skips it; any other is escaped by it: either way
    the URL is the one `quote(path, safe=PATH_SAFE)` gives, with or without an encoded query."""
    factory = RequestFactory(BASES[0], {})
    for path in (f"/a{char}b", f"/{char}", f"/x/{char}{char}/y"):
        expected = BASES[0] + quote(path, safe=PATH_SAFE)
        assert factory.url(path) == expected
        assert factory.build("GET", path, query="q=1").url == f"{expected}?q=1"


@pytest.mark.parametrize(
    "body",
    [
        {"content": b"<soap/>", "headers": {"Content-Type": "text/xml", "SOAPAction": '"Q"'}},
        {"json": {"contactIds": ["C1"], "note": "停水", "n": 5}},
        {"data": {"where": "1=1", "f": "json"}},
        {"data": {"ids": ["1", "2"], "on": True, "none": None, "名": "值 &"}},
        {"json": [1.5, None, True, "\u2028"]},
        {},
    ],
)
def test_the_request_matches_the_plain_one_header_for_header_and_byte_for_byte(body: dict[str, Any]) -> None:
    factory = RequestFactory("http://billing.test", {"User-Agent": "tidegate-bff"})
    method = "GET" if not body else "POST"
    ours = factory.build(method, "/ws", params={"a": "1"}, **body)
    extra = body.pop("headers", {})
    theirs = httpx.Request(
        method,
        "http://billing.test/ws",
        params={"a": "1"},
        headers={"User-Agent": "tidegate-bff", **extra},
        **body,
    )
    assert ours.method == theirs.method and ours.url == str(theirs.url)
    sent = httpx.Headers(ours.headers)
    # Host and Content-Length are the sender's (aiohttp adds them), so they are left out of httpx's.
    own = ("host", "content-length")
    assert sent.multi_items() == [h for h in theirs.headers.multi_items() if h[0] not in own]
    assert (ours.body or b"") == theirs.content


def test_a_call_never_changes_the_prepared_headers() -> None:
    factory = RequestFactory("http://crm.test", {"User-Agent": "tidegate-bff"})
    first = factory.build("POST", "/a", headers={"X-Extra": "1"}, json={})
    assert first.headers["X-Extra"] == "1"
    second = factory.build("GET", "/b")
    assert "x-extra" not in second.headers and "traceparent" not in second.headers
    assert second.headers["user-agent"] == "tidegate-bff"


# What the GIS client sends as an encoded query: a plain path and text values.
TEXT_SHAPES = [
    (path, params)
    for path, params in SHAPES
    if isinstance(params, dict)
    and params
    and all(isinstance(v, str) for v in params.values())
    and not any(c in path for c in "?#%")
]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize(("path", "params"), TEXT_SHAPES)
def test_a_query_encoded_by_the_caller_is_the_url_params_make(base: str, path: str, params: Any) -> None:
    """The GIS client measures its query against the GET limit and sends that very string: the URL
    must be the one `params` would have made, encoded once."""
    factory = RequestFactory(base, {})
    assert factory.build("GET", path, query=form_encode(params)).url == factory.url(path, params)


def test_an_encoded_query_refuses_params_beside_it_or_a_path_with_its_own() -> None:
    factory = RequestFactory("http://gis.test", {})
    with pytest.raises(ValueError, match="encoded query"):
        factory.build("GET", "/q", params={"a": "1"}, query="b=2")
    with pytest.raises(ValueError, match="encoded query"):
        factory.build("GET", "/q?x=1", query="b=2")


_PLAIN_VALUES = st.one_of(st.text(), st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())


@given(st.lists(st.tuples(st.text(), _PLAIN_VALUES), max_size=8))
def test_form_encoding_spells_every_query_as_urlencode_does(pairs: list[tuple[str, Any]]) -> None:
    """`form_encode` replaces `urlencode` on the request path (the GIS client, the request factory):
    byte for byte the same, whatever the text (non-ASCII, reserved characters, spaces, `~`, controls),
    a mapping or a list of pairs; lone surrogates fail the same way."""
    try:
        expected = urlencode(pairs)
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            form_encode(pairs)
        return
    assert form_encode(pairs) == expected
    assert form_encode(dict(pairs)) == urlencode(dict(pairs))


def test_form_quoting_covers_every_byte_as_quote_plus_does() -> None:
    every_byte = bytes(range(256)).decode("latin-1")
    assert form_quote(every_byte) == quote_plus(every_byte, safe="")
    assert form_encode([(b"k", b"v")]) == urlencode([(b"k", b"v")])  # bytes: urlencode's own
