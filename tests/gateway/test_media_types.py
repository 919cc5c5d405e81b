"""`negotiate`: which response media type an `Accept` header gets, by q-value and specificity;
`mime_type`: a request's `Content-Type` as Strawberry reads it."""

from __future__ import annotations

import pytest
from strawberry.http.parse_content_type import parse_content_type

from gateway.http.media_types import (
    MediaRange,
    MediaType,
    answer_media_type,
    mime_type,
    negotiate,
    parse_accept,
)

GRJ = MediaType.GRAPHQL_RESPONSE_JSON
JSON = MediaType.JSON


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        pytest.param(None, JSON, id="absent"),
        pytest.param("", JSON, id="empty"),
        pytest.param("*/*", JSON, id="anything: the legacy type"),
        pytest.param("application/*", JSON, id="any application type: the legacy type"),
        pytest.param("application/json", JSON, id="json"),
        pytest.param("Application/JSON; charset=utf-8", JSON, id="json, any case, with a parameter"),
        pytest.param("application/graphql-response+json", GRJ, id="graphql-response"),
        pytest.param("application/graphql-response+json, application/json;q=0.9", GRJ, id="apollo-client-4"),
        pytest.param(
            "application/json, application/graphql-response+json", GRJ, id="tie: named, server's order"
        ),
        pytest.param(
            "application/json, application/graphql-response+json;q=0.5", JSON, id="client prefers json"
        ),
        pytest.param("application/graphql-response+json;q=0.5, */*", JSON, id="wildcard q=1 beats 0.5"),
        pytest.param("application/graphql-response+json;q=0, */*", JSON, id="graphql-response refused"),
        pytest.param("application/json;q=0, */*", GRJ, id="json refused"),
        pytest.param("*/*;q=0.1, application/graphql-response+json;q=0.2", GRJ, id="specific range decides"),
        pytest.param("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", JSON, id="a browser"),
        pytest.param(
            'application/graphql-response+json; x="a,b", application/json;q=0.1', GRJ, id="quoted comma"
        ),
        pytest.param("text/html", None, id="html only"),
        pytest.param("text/*, image/png", None, id="other types only"),
        pytest.param("application/json;q=0", None, id="json refused, nothing else"),
        pytest.param("application/json;q=2", None, id="malformed q: range ignored"),
        pytest.param("json", None, id="no slash: range ignored"),
        pytest.param("*/json", None, id="wildcard type with a subtype: ignored"),
    ],
)
def test_negotiate(accept: str | None, chosen: MediaType | None) -> None:
    assert negotiate(accept) is chosen


def test_a_malformed_range_costs_only_itself() -> None:
    assert parse_accept("json, application/json;q=abc, application/graphql-response+json;q=0.5") == [
        MediaRange("application", "graphql-response+json", 0.5)
    ]


def test_q_values_follow_rfc_9110() -> None:
    ranges = parse_accept("a/b;q=0, a/c;q=0.001, a/d;q=1.000, a/e;q=1.001, a/f;q=0.0001, a/g;Q=0.5")
    assert [(r.subtype, r.q) for r in ranges] == [("b", 0.0), ("c", 0.001), ("d", 1.0), ("g", 0.5)]


def test_content_types_say_utf_8() -> None:
    assert GRJ.content_type == "application/graphql-response+json; charset=utf-8"
    assert JSON.content_type == "application/json; charset=utf-8"


def test_an_error_before_negotiation_uses_the_clients_choice_or_json() -> None:
    assert answer_media_type({"accept": "application/graphql-response+json"}) is GRJ
    assert answer_media_type({"accept": "text/html"}) is JSON
    assert answer_media_type({}) is JSON


@pytest.mark.parametrize(
    "value",
    [
        "application/json",
        "APPLICATION/JSON; charset=utf-8",
        "",
        "text",
        ";;",
        "application/json;q",
        "a" * 600,
    ],
)
def test_mime_type_reads_a_content_type_as_strawberry_does(value: str) -> None:
    """Remembered or not (a long value is read each time), the answer is Strawberry's own."""
    assert mime_type(value) == parse_content_type(value)[0]
    assert mime_type(value) == parse_content_type(value)[0]  # the second read, from the memo


def test_a_long_accept_header_is_negotiated_like_a_short_one() -> None:
    padded = "application/graphql-response+json, " + ", ".join(f"x/y{i}" for i in range(100))
    assert len(padded) > 512
    assert (
        negotiate(padded) is negotiate("application/graphql-response+json") is MediaType.GRAPHQL_RESPONSE_JSON
    )
