"""Tidegate inside a real Apollo Federation 2 supergraph: composition, `_entities` both ways, policy.

The survey subgraph (Node) adds `Customer.satisfaction` and answers `recentSurveys` with Customer
references only (KH00000001, KH00000002, ... in order). So `customer(id) { satisfaction }` goes
Tidegate -> surveys, and `recentSurveys { customer { name } }` goes surveys -> Tidegate, each through
the other side's `_entities`. What Tidegate answers must be masked, refused and coded exactly as it
is when a client asks it directly.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from typing import Any

import httpx

from schema.directives import POLICY_SPEC
from schema.masking import mask_id_card, mask_mobile, mask_name
from tests.conftest import Simulators
from tests.federation.conftest import NodeProcess, node_script, sdl_token
from tests.support.admin import stats
from tests.support.processes import ROOT, BffProcess
from tests.support.world import seeded_world

CUSTOMER = "query ($id: ID!) { customer(id: $id) { id name idCard mobile satisfaction { score comment } } }"
SURVEYS = "query ($first: Int!) { recentSurveys(first: $first) { score customer { id name idCard mobile } } }"
SATISFACTION = """query ($reps: [_Any!]!) {
  _entities(representations: $reps) { ... on Customer { satisfaction { score comment } } }
}"""


def customer_no(i: int) -> str:
    return f"KH{i:08d}"


def caller_of(i: int) -> str:
    """The mobile customer `i` calls from, as the seeded world (and so the CRM) has it."""
    found = next(c for c in seeded_world().customers if c.customer_no == i)
    assert found.mobile
    return str(found.mobile)


def clear(bff: BffProcess, ids: list[str]) -> dict[str, dict[str, Any]]:
    """What Tidegate itself answers a supervisor (no gateway): the clear values to compare with."""
    out = {}
    for cid in ids:
        body = httpx.post(
            f"{bff.url}/graphql",
            json={
                "query": "query ($id: ID!) { customer(id: $id) { id name idCard mobile } }",
                "variables": {"id": cid},
            },
            headers=bff.auth("supervisor"),
        ).json()
        assert "errors" not in body, body
        out[cid] = body["data"]["customer"]
    return out


def satisfaction(surveys: NodeProcess, cid: str) -> dict[str, Any]:
    """What the survey subgraph itself says about this customer (asked directly, no gateway)."""
    body = surveys.post(SATISFACTION, variables={"reps": [{"__typename": "Customer", "id": cid}]})
    found: dict[str, Any] = body["data"]["_entities"][0]["satisfaction"]
    return found


def refused(cid: str) -> dict[str, Any]:
    """A customer Tidegate refused, as the router shapes it from the other subgraph's reference."""
    return {"id": cid, "name": None, "idCard": None, "mobile": None}


def codes(body: dict[str, Any]) -> list[tuple[list[Any] | None, str | None]]:
    return [(e.get("path"), e.get("extensions", {}).get("code")) for e in body.get("errors", [])]


def test_the_supergraph_keeps_our_keys_and_policy_directives(bff: BffProcess, surveys: NodeProcess) -> None:
    printed = subprocess.run(
        node_script("gateway.mjs", "0", f"{bff.url}/graphql", surveys.url, "--print-supergraph"),
        env={**os.environ, **sdl_token(bff)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert printed.returncode == 0, printed.stderr
    supergraph = printed.stdout
    assert f'@link(url: "{POLICY_SPEC}", import: ["@requiresScopes", "@mask"])' in supergraph
    assert "directive @mask(kind: MaskKind!) on FIELD_DEFINITION" in supergraph
    assert "directive @requiresScopes(scopes: [[String!]!]!) on FIELD_DEFINITION | OBJECT" in supergraph
    for entity, key in (
        ("Customer", "id"),
        ("Account", "accountNo"),
        ("Ticket", "id"),
        ("PipeSegment", "id"),
    ):
        assert f"type {entity}\n  @join__type(graph: " in supergraph
        assert f'@join__type(graph: TIDEGATE, key: "{key}", resolvable: true)' in supergraph
    assert '@join__type(graph: SURVEYS, key: "id")' in supergraph
    assert "idCard: String @join__field(graph: TIDEGATE) @mask(kind: ID_CARD)" in supergraph
    assert "satisfaction: Satisfaction @join__field(graph: SURVEYS)" in supergraph


def test_a_supervisor_crosses_both_ways_in_clear(
    bff: BffProcess, surveys: NodeProcess, gateway: NodeProcess
) -> None:
    token = bff.token("supervisor")
    expected = clear(bff, [customer_no(1), customer_no(2)])

    # Tidegate -> surveys: our customer, their satisfaction.
    body = gateway.post(CUSTOMER, token, {"id": customer_no(1)})
    assert "errors" not in body, body
    assert body["data"]["customer"] == {
        **expected[customer_no(1)],
        "satisfaction": satisfaction(surveys, customer_no(1)),
    }

    # surveys -> Tidegate: their references, our customers.
    body = gateway.post(SURVEYS, token, {"first": 2})
    assert "errors" not in body, body
    assert [row["customer"] for row in body["data"]["recentSurveys"]] == [
        expected[customer_no(1)],
        expected[customer_no(2)],
    ]


def test_an_agent_sees_only_their_caller_and_masked_both_ways(
    bff: BffProcess, surveys: NodeProcess, gateway: NodeProcess
) -> None:
    token = bff.token("agent", "A1001")
    assert bff.cti("CALL_RINGING", "A1001", "fed-1", caller_of(1)).status_code == 204
    popped = gateway.post(
        "query ($phone: String!) { customerByPhone(phone: $phone) { id } }", token, {"phone": caller_of(1)}
    )
    assert "errors" not in popped, popped
    matched = {c["id"] for c in popped["data"]["customerByPhone"]}
    assert customer_no(1) in matched
    first = 3
    others = [customer_no(i) for i in range(1, first + 1) if customer_no(i) not in matched]
    assert others, "the test needs a surveyed customer the call did not match"
    expected = clear(bff, [customer_no(i) for i in range(1, first + 1)])

    def masked(cid: str) -> dict[str, Any]:
        c = expected[cid]
        return {
            "id": cid,
            "name": mask_name(c["name"]),
            "idCard": mask_id_card(c["idCard"]),
            "mobile": mask_mobile(c["mobile"]),
        }

    # Tidegate -> surveys: masked PII, and the survey's own field untouched.
    body = gateway.post(CUSTOMER, token, {"id": customer_no(1)})
    assert "errors" not in body, body
    assert body["data"]["customer"] == {
        **masked(customer_no(1)),
        "satisfaction": satisfaction(surveys, customer_no(1)),
    }

    # surveys -> Tidegate: the caller's customers masked, everyone else refused at their own path.
    # Tidegate's `_entities` answers null for a refused one; the router keeps the survey's reference
    # (its `id`) and Tidegate's fields, all nullable, come back null.
    body = gateway.post(SURVEYS, token, {"first": first})
    rows = body["data"]["recentSurveys"]
    assert [row["customer"] for row in rows] == [
        masked(customer_no(i)) if customer_no(i) in matched else refused(customer_no(i))
        for i in range(1, first + 1)
    ]
    assert sorted(codes(body)) == sorted(
        (["recentSurveys", i - 1, "customer"], "FORBIDDEN")
        for i in range(1, first + 1)
        if customer_no(i) in others
    )
    assert all(e["extensions"].get("serviceName") == "tidegate" for e in body["errors"])

    # When the call ends, so does the access, through the gateway too.
    assert bff.cti("CALL_ENDED", "A1001", "fed-1").status_code == 204
    body = gateway.post(CUSTOMER, token, {"id": customer_no(1)})
    assert body["data"] == {"customer": None}
    assert codes(body) == [(["customer"], "FORBIDDEN")]


def test_refusals_keep_their_codes_through_the_gateway(
    bff: BffProcess, surveys: NodeProcess, gateway: NodeProcess
) -> None:
    # No call at all: the customer is refused, exists or not, with the same code and message.
    agent = bff.token("agent", "A1002")
    real, invented = (
        gateway.post(CUSTOMER, agent, {"id": customer_no(7)}),
        gateway.post(CUSTOMER, agent, {"id": "KH99999999"}),
    )
    assert codes(real) == codes(invented) == [(["customer"], "FORBIDDEN")]
    assert real["errors"][0]["message"] == invented["errors"][0]["message"]

    # An auditor holds no customer scope: `_entities` refuses each Customer by its type's
    # @requiresScopes, at each one's path, while the survey subgraph's own fields still arrive.
    body = gateway.post(SURVEYS, bff.token("auditor"), {"first": 2})
    own = surveys.post("{ recentSurveys(first: 2) { score } }")["data"]["recentSurveys"]
    assert [{**row, "customer": refused(customer_no(i))} for i, row in enumerate(own, 1)] == body["data"][
        "recentSurveys"
    ]
    assert sorted(codes(body)) == [
        (["recentSurveys", 0, "customer"], "FORBIDDEN"),
        (["recentSurveys", 1, "customer"], "FORBIDDEN"),
    ]
    assert all("needs scope customer:read" in e["message"] for e in body["errors"]), body

    # Tidegate's limits hold for the part of a query the gateway sends it (depth 12 by default; and
    # its static cost: six nested lists of accounts, each counted as 10 long, cost over 20,000).
    deep = "accounts { customer { " * 6 + "id" + " } }" * 6
    body = gateway.post(f"{{ recentSurveys(first: 1) {{ customer {{ {deep} }} }} }}", bff.token("supervisor"))
    assert body["data"]["recentSurveys"] == [{"customer": {"accounts": None}}], body
    assert sorted(str(code) for _, code in codes(body)) == ["QUERY_TOO_COSTLY", "QUERY_TOO_DEEP"]

    # A supervisor asking for a customer nobody has: NOT_FOUND, not a gateway error.
    body = gateway.post(CUSTOMER, bff.token("supervisor"), {"id": "KH99999999"})
    assert codes(body) == [(["customer"], "NOT_FOUND")]

    # No token: Tidegate's 401 arrives coded.
    body = gateway.post(CUSTOMER, None, {"id": customer_no(1)})
    assert body["data"] == {"customer": None}
    assert [code for _, code in codes(body)] == ["UNAUTHENTICATED"]


def test_entities_from_the_gateway_batch_into_one_crm_call(
    bff: BffProcess, gateway: NodeProcess, clean_sims: Simulators
) -> None:
    body = gateway.post("query { recentSurveys(first: 5) { customer { name } } }", bff.token("supervisor"))
    assert "errors" not in body, body
    assert all(row["customer"]["name"] for row in body["data"]["recentSurveys"])
    crm = stats(clean_sims["crm"].url)["operations"]
    assert set(crm) == {"searchContactsBulk"}
    assert crm["searchContactsBulk"]["requests"] == 1
    assert crm["searchContactsBulk"]["batch_sizes"] == [5]


MIXED = """query ($ids: [ID!]!, $a: ID!, $b: ID!) {
  surveyCalls(customerIds: $ids) { id customer { id name kind tags satisfaction { score } } }
  a: customer(id: $a) { id name }
  b: customer(id: $b) { id name }
}"""


def test_one_refused_customer_costs_that_customer_not_the_answer(
    bff: BffProcess, surveys: NodeProcess, gateway: NodeProcess
) -> None:
    """Issue 20: an agent's operation touching their caller A and a customer B who is not on the call.
    The survey subgraph declares `SurveyCall.customer: Customer!`, so a null climbing out of B's
    non-null fields would take `surveyCalls`, then `data`, with it: B's Tidegate fields are nullable,
    so the refusal costs B's fields (and `b`, refused at the entity), and A arrives whole."""
    token = bff.token("agent", "A1003")
    assert bff.cti("CALL_RINGING", "A1003", "fed-mixed", caller_of(1)).status_code == 204
    popped = gateway.post(
        "query ($phone: String!) { customerByPhone(phone: $phone) { id } }", token, {"phone": caller_of(1)}
    )
    matched = {c["id"] for c in popped["data"]["customerByPhone"]}
    a = customer_no(1)
    b = next(customer_no(i) for i in range(2, 20) if customer_no(i) not in matched)
    expected = clear(bff, [a])[a]

    body = gateway.post(MIXED, token, {"ids": [a, b], "a": a, "b": b})
    assert body["data"] is not None, body
    calls = body["data"]["surveyCalls"]
    assert calls[0]["customer"]["id"] == a
    assert calls[0]["customer"]["name"] == mask_name(expected["name"])
    assert calls[0]["customer"]["kind"] and calls[0]["customer"]["tags"] is not None
    assert calls[1] == {
        "id": "C2",
        "customer": {
            "id": b,
            "name": None,
            "kind": None,
            "tags": None,
            "satisfaction": {"score": satisfaction(surveys, b)["score"]},
        },
    }
    assert body["data"]["a"] == {"id": a, "name": mask_name(expected["name"])}
    assert body["data"]["b"] is None
    # Each refusal is coded and sits on B's paths only: never on A, never on the list.
    assert sorted(codes(body)) == [(["b"], "FORBIDDEN"), (["surveyCalls", 1, "customer"], "FORBIDDEN")]
    assert bff.cti("CALL_ENDED", "A1003", "fed-mixed").status_code == 204


def test_a_persisted_id_is_planned_from_the_manifest_at_the_gateway(
    bff: BffProcess, gateway: NodeProcess
) -> None:
    """The recipe's persisted documents on Apollo's gateway: its APQ cache answers from
    gql/manifest.json only, so an app's id runs the listed body and registers nothing new."""
    manifest = json.loads((ROOT / "gql" / "manifest.json").read_text(encoding="utf-8"))
    pop_id = next(o["id"] for o in manifest["operations"] if o["name"] == "ScreenPop")
    assert bff.cti("CALL_RINGING", "A1004", "fed-pq", caller_of(1)).status_code == 204
    headers = {"Authorization": f"Bearer {bff.token('agent', 'A1004')}"}

    def by_hash(sha: str, query: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}},
            "variables": {"phone": caller_of(1)},
        }
        if query is not None:
            body["query"] = query
        found: dict[str, Any] = httpx.post(gateway.url, json=body, headers=headers, timeout=30).json()
        return found

    popped = by_hash(pop_id)
    assert "errors" not in popped, popped
    assert customer_no(1) in [c["id"] for c in popped["data"]["customerByPhone"]]
    assert "*" in popped["data"]["customerByPhone"][0]["name"]  # masked for an agent, by Tidegate

    # A registration runs once but is never kept: the same id alone is unknown afterwards.
    text = "query ($phone: String!) { customerByPhone(phone: $phone) { id } }"
    sha = hashlib.sha256(text.encode()).hexdigest()
    assert "errors" not in by_hash(sha, text)
    assert codes(by_hash(sha)) == [(None, "PERSISTED_QUERY_NOT_FOUND")]
    assert bff.cti("CALL_ENDED", "A1004", "fed-pq").status_code == 204
