"""Admission control: operation classes, and 429 RATE_LIMITED with Retry-After before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.app import create_app
from gateway.limits.admission import AdmissionBuckets, buckets, classify, retry_after_header
from gateway.settings import Settings
from infra.resilience.gcra import Limit
from infra.resilience.priority import OperationClass
from tests.gateway.conftest import TEST_ISSUER, TEST_KEYS, bearer, serve, small_schema

GQL = Path(__file__).parents[2] / "gql"


@pytest.mark.parametrize(
    ("query", "name", "expected"),
    [
        ((GQL / "screen_pop.graphql").read_text(encoding="utf-8"), "ScreenPop", OperationClass.CRITICAL),
        ((GQL / "screen_pop.graphql").read_text(encoding="utf-8"), None, OperationClass.CRITICAL),
        ('{ customerByPhone(phone: "1") { id } }', None, OperationClass.CRITICAL),
        ('{ customerByPhone(phone: "1") { interactions { id } } }', None, OperationClass.SHEDDABLE),
        ('{ account(accountNo: "1") { bills { billNo } } }', None, OperationClass.SHEDDABLE),
        (
            'query { ...F } fragment F on Query { account(accountNo: "1") { payments { serial } } }',
            None,
            OperationClass.SHEDDABLE,
        ),
        ('{ account(accountNo: "1") { holderName } }', None, OperationClass.NORMAL),
        ("{ tickets { id } }", None, OperationClass.SHEDDABLE),
        ("{ not valid", None, OperationClass.NORMAL),
    ],
)
def test_operation_classes(query: str, name: str | None, expected: OperationClass) -> None:
    assert classify(query, name) is expected


def test_each_callers_buckets_are_built_once_and_the_kept_sets_stay_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    limits = {name: Limit(10.0, 5) for name in ("global", "client", "critical", "normal", "sheddable")}
    kept = AdmissionBuckets(limits)
    first = kept("alice", OperationClass.CRITICAL)
    assert first == tuple(buckets("alice", OperationClass.CRITICAL, limits))
    assert kept("alice", OperationClass.CRITICAL) is first  # the same tuple: built once
    assert kept("alice", OperationClass.SHEDDABLE) != first and kept("bob", OperationClass.CRITICAL) != first
    monkeypatch.setattr(AdmissionBuckets, "MAX_KEPT", 3)
    for n in range(10):
        assert kept(f"client-{n}", OperationClass.NORMAL)[1].key == f"rl:client:client-{n}"
        assert len(kept._kept) <= 3


def test_retry_after_is_whole_seconds() -> None:
    assert [retry_after_header(s) for s in (0.01, 1.0, 1.2, float("inf"))] == ["1", "1", "2", "60"]


async def test_over_the_limit_is_429_rate_limited_and_other_clients_still_pass() -> None:
    settings = Settings(rate_client_rps=0.01, rate_client_burst=3)
    app = create_app(settings, schema=small_schema(settings), keys=TEST_KEYS)
    async with serve(app, headers=bearer("agent", agent_id="A1001")) as client:
        answers = [await client.post("/graphql", json={"query": "{ hello }"}) for _ in range(5)]
        token = TEST_ISSUER.mint(client_id="another-desk", role="supervisor")
        other = await client.post(
            "/graphql", json={"query": "{ hello }"}, headers={"Authorization": f"Bearer {token}"}
        )
    assert [r.status_code for r in answers] == [200, 200, 200, 429, 429]
    refused = answers[3]
    assert int(refused.headers["Retry-After"]) >= 1
    (error,) = refused.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED" and error["extensions"]["retryAfter"] >= 1
    assert other.status_code == 200  # a different client (token subject) has its own bucket


async def test_sheddable_work_is_shed_first() -> None:
    settings = Settings(rate_sheddable_rps=0.01, rate_sheddable_burst=1)
    app = create_app(settings, schema=small_schema(settings), keys=TEST_KEYS)
    async with serve(app) as client:
        shed = [await client.post("/graphql", json={"query": "{ hello bills }"}) for _ in range(2)]
        normal = await client.post("/graphql", json={"query": "{ hello }"})
    assert [r.status_code for r in shed] == [200, 429]
    assert shed[1].json()["errors"][0]["extensions"]["class"] == "sheddable"
    assert normal.status_code == 200
