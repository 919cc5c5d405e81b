"""`apollographql-client-name` / `-version` reach the request log line, sanitised and bounded."""

from __future__ import annotations

import logging

import httpx
import pytest

from gateway.http.client_identity import client_identity, sanitised


def test_only_printable_ascii_is_kept_and_at_most_64_characters() -> None:
    assert sanitised("softphone\r\nlevel=error\x00") == "softphonelevel=error"
    assert sanitised("工作台 workbench") == "workbench"
    assert sanitised("x" * 100) == "x" * 64
    assert sanitised("\x07\x08") is None and sanitised("") is None and sanitised(None) is None


def test_absent_headers_are_none() -> None:
    assert client_identity({}) == (None, None)
    assert client_identity(
        {"apollographql-client-name": "softphone", "apollographql-client-version": "3.2.1"}
    ) == (
        "softphone",
        "3.2.1",
    )


async def test_the_request_log_line_names_the_client(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tidegate.graphql.request")
    headers = {
        "apollographql-client-name": "softphone-bar-" + "x" * 80,
        "apollographql-client-version": "3.2.1",
    }
    await client.post("/graphql", json={"query": "{ hello }"}, headers=headers)
    refused = await client.post(
        "/graphql", json={"extensions": {"persistedQuery": {"version": 9}}}, headers=headers
    )
    assert refused.status_code == 400  # refused before GraphQL, still logged with the client
    lines = [r for r in caplog.records if r.name == "tidegate.graphql.request"]
    assert len(lines) == 2
    for line in lines:
        assert line.client_name == ("softphone-bar-" + "x" * 80)[:64]  # type: ignore[attr-defined]
        assert line.client_version == "3.2.1"  # type: ignore[attr-defined]
