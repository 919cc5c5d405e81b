"""A POST of a planned manifest operation skips Strawberry's generic `run` (`GraphQLView._run_planned`,
issue 21) and must answer exactly as `run` does: status, content type, headers and body, for answers
with data, with refusals, with a variable that does not coerce, and in both media types.

Each request is sent twice through the real app on the simulators: once as served (the planned path,
`run` never called) and once with the planned path turned off (`run`, called once per request)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

import httpx
import orjson
import pytest
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

from gateway.app import create_app
from gateway.http.graphql_view import GraphQLView, _written
from gateway.http.media_types import MediaType
from gateway.persisted.manifest import load_manifest
from gateway.settings import Settings
from tests.conftest import Simulators
from tests.gateway.conftest import TEST_KEYS, bearer, serve
from tests.support.world import seeded_world

OPERATIONS = {op.name: op for op in reversed(load_manifest())}


def _by_hash(name: str, variables: dict[str, Any]) -> dict[str, Any]:
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": OPERATIONS[name].id}}
    return {"extensions": extensions, "variables": variables}


def _phone() -> str:
    world = seeded_world()
    found = [c for c in world.customers if c.mobile and len(world.customers_by_phone[c.mobile]) == 1]
    return str(found[30].mobile)


PHONE = _phone()
CASES: list[tuple[str, str, dict[str, Any], dict[str, str]]] = [
    ("supervisor", "ScreenPop", {"phone": PHONE}, {}),
    ("supervisor", "ScreenPop", {"phone": PHONE}, {"Accept": "application/graphql-response+json"}),
    ("agent", "ScreenPop", {"phone": PHONE}, {}),  # not on a call with them: refused fields
    ("supervisor", "ScreenPop", {"phone": "02100000000"}, {}),  # nobody's number
    ("supervisor", "ScreenPop", {"phone": 13800000000}, {}),  # does not coerce: Strawberry says why
    (
        "supervisor",
        "ScreenPop",
        {"phone": 13800000000},
        {"Accept": "application/graphql-response+json"},
    ),
    ("supervisor", "CallerOutageStatus", {"phone": PHONE}, {}),
]


def _without_clocks(value: Any) -> Any:
    """The answer with each `asOf` blanked: the moment the back office was asked is each run's own."""
    if isinstance(value, dict):
        return {k: (None if k == "asOf" else _without_clocks(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_clocks(v) for v in value]
    return value


def _answer(response: httpx.Response) -> tuple[int, str, dict[str, str], Any]:
    headers = {k: v for k, v in response.headers.items() if k not in {"content-length", "date"}}
    return response.status_code, response.headers["content-type"], headers, _without_clocks(response.json())


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """How often Strawberry's `run` was called."""
    calls: Counter[str] = Counter()
    run = GraphQLView.run

    async def counted(self: GraphQLView, *args: Any, **kwargs: Any) -> Any:
        calls["run"] += 1
        return await run(self, *args, **kwargs)

    monkeypatch.setattr(GraphQLView, "run", counted)
    yield calls


async def test_the_planned_path_answers_as_strawberrys_run(
    sims: Simulators, monkeypatch: pytest.MonkeyPatch, runs: Counter[str]
) -> None:
    urls: dict[str, Any] = {f"{n}_url": sims[n].url for n in ("billing", "crm", "gis", "workorders")}
    settings = Settings(**urls, budget_critical_ms=10_000, screen_pop_prefetch=False)
    app = create_app(settings, keys=TEST_KEYS)
    planned: list[tuple[int, str, dict[str, str], Any]] = []
    generic: list[tuple[int, str, dict[str, str], Any]] = []
    async with serve(app) as client:
        for role, name, variables, headers in CASES:
            r = await client.post(
                "/graphql", json=_by_hash(name, variables), headers={**bearer(role), **headers}
            )
            planned.append(_answer(r))
        planned_runs = runs["run"]

        async def generic_run(self: GraphQLView, request: Any, fields: Any) -> Any:
            return _written(await self.run(request), request)  # what `_answer` does with `run`'s

        monkeypatch.setattr(GraphQLView, "_run_planned", generic_run)
        for role, name, variables, headers in CASES:
            r = await client.post(
                "/graphql", json=_by_hash(name, variables), headers={**bearer(role), **headers}
            )
            generic.append(_answer(r))
    assert planned_runs == 0  # every case took the planned path
    assert runs["run"] == len(CASES)  # and then every one went through `run`
    assert planned == generic
    statuses = {status for status, *_ in planned}
    codes = {error["extensions"]["code"] for *_, body in planned for error in body.get("errors", [])}
    assert statuses == {200, 400}  # the cases reach a request error in graphql-response+json
    assert {"BAD_USER_INPUT", "FORBIDDEN"} <= codes, codes
    assert any(body.get("data", {}).get("customerByPhone") for *_, body in planned)


@pytest.mark.parametrize("media_type", list(MediaType))
@pytest.mark.parametrize("status", [200, 400])
def test_the_planned_response_is_strawberrys_response_as_written(media_type: MediaType, status: int) -> None:
    """`_planned_response` builds in one step what `create_response` then `_written` make: the same
    status, headers in the same order (a resolver's own on the sub-response kept after the content
    type, a content type of its own replaced), body and background."""
    view = cast(GraphQLView, SimpleNamespace(encode_json=orjson.dumps))
    background = BackgroundTask(print)

    def sub() -> Response:
        sub_response = Response()
        sub_response.status_code = 202  # `_written` puts the judged status over a resolver's
        del sub_response.headers["content-length"]
        sub_response.headers["x-trace"] = "t1"
        sub_response.headers["content-type"] = "text/plain"
        sub_response.headers.append("x-trace", "t2")
        sub_response.background = background
        return sub_response

    data: Any = {"data": {"hello": "世界"}}
    request = Request({"type": "http", "state": {"media_type": media_type, "graphql_status": status}})
    written = _written(GraphQLView.create_response(view, data, sub()), request)
    planned = GraphQLView._planned_response(view, request, data, sub())
    assert planned.status_code == written.status_code == status
    assert planned.raw_headers == written.raw_headers
    assert planned.body == written.body and planned.background is written.background is background
