"""Apollo's CSRF rule: a GET (or a simple POST) runs only with a preflight header or a non-simple
content type; a POST must be JSON anyway (415), which is never simple."""

from __future__ import annotations

import httpx
import pytest

from gateway.http.csrf import preflighted

QUERY = {"query": "{ hello }"}


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-content-type"),
        pytest.param({"content-type": "text/plain"}, id="text-plain"),
        pytest.param({"content-type": "application/x-www-form-urlencoded"}, id="form"),
        pytest.param({"content-type": "multipart/form-data; boundary=x"}, id="multipart"),
        pytest.param({"apollo-require-preflight": ""}, id="empty-header"),
    ],
)
async def test_a_get_a_browser_could_send_cross_site_is_refused(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    r = await client.get("/graphql", params=QUERY, headers=headers)
    assert r.status_code == 400
    ((error,),) = [r.json()["errors"]]
    assert error["extensions"]["code"] == "CSRF_PREFLIGHT_REQUIRED"
    assert "apollo-require-preflight" in error["message"]


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"apollo-require-preflight": "true"}, id="apollo-require-preflight"),
        pytest.param({"x-apollo-operation-name": "Hello"}, id="x-apollo-operation-name"),
        pytest.param({"content-type": "application/json"}, id="non-simple-content-type"),
        pytest.param(
            {"content-type": "text/plain", "apollo-require-preflight": "1"}, id="simple-with-header"
        ),
    ],
)
async def test_a_get_that_forced_a_preflight_runs(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    r = await client.get("/graphql", params=QUERY, headers=headers)
    assert r.json() == {"data": {"hello": "hello world"}}


async def test_a_simple_post_never_runs(client: httpx.AsyncClient) -> None:
    for headers in (
        {"content-type": "text/plain"},
        {"content-type": "text/plain", "apollo-require-preflight": "1"},
    ):
        r = await client.post("/graphql", content=b'{"query": "{ hello }"}', headers=headers)
        assert r.status_code == 415
        assert r.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_the_rule_for_post_as_apollo_states_it() -> None:
    assert not preflighted("POST", {"content-type": "text/plain; charset=utf-8"})
    assert preflighted("POST", {"content-type": "text/plain", "x-apollo-operation-name": "Hi"})
    assert preflighted("POST", {"content-type": "application/json"})
    assert preflighted("PUT", {})
