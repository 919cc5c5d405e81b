"""The softphone's persisted screen pop through a real `tidegate serve` process: the operation's hash
only, over GET (URL-encoded `extensions` and `variables`, as docs/federation.md's curl sends it) and POST
(APQ and `documentId`), served from the ring-time pop, and nothing else let through for the softphone."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import httpx
import orjson

from bench.graphql_ws import GraphQLWs
from gateway.persisted.manifest import load_manifest
from tests.conftest import Simulators
from tests.support.admin import stats
from tests.support.processes import BffProcess
from tests.support.world import seeded_world

SCREEN_POP = next(op for op in load_manifest() if op.name == "ScreenPop")
APQ = {"persistedQuery": {"version": 1, "sha256Hash": SCREEN_POP.id}}
POPS = "subscription($a: ID!) { screenPop(agentId: $a) { callId prefetched } }"
CLIENT = {"apollographql-client-name": "softphone-bar", "apollographql-client-version": "3.2.1"}


def softphone_token(bff: BffProcess, agent_id: str) -> str:
    from gateway.auth import local_issuer
    from gateway.settings import Settings

    issuer = local_issuer(Settings(local_issuer=True, local_issuer_key_path=bff.issuer_key_path))
    return issuer.mint(client_id="softphone", role="softphone", agent_id=agent_id)


def calls(sims: Simulators) -> dict[str, int]:
    """Requests per backend operation so far, e.g. `crm.searchContacts`."""
    return {
        f"{name}.{op}": int(found["requests"])
        for name in ("billing", "crm", "gis", "workorders")
        for op, found in stats(sims[name].url)["operations"].items()
    }


def customers(r: httpx.Response) -> list[str]:
    assert r.status_code == 200, r.text
    body = cast("dict[str, Any]", r.json())
    assert "errors" not in body, body["errors"]
    return [c["id"] for c in body["data"]["customerByPhone"]]


async def test_the_softphone_pops_the_screen_by_hash_over_get_and_post(
    bff: BffProcess, sims: Simulators
) -> None:
    world = seeded_world()
    caller = [c for c in world.customers if c.mobile and len(world.customers_by_phone[c.mobile]) == 1][-40]
    expected = [f"KH{caller.customer_no:08d}"]
    token = softphone_token(bff, "A7201")
    auth = {"Authorization": f"Bearer {token}", **CLIENT}
    url = f"{bff.url}/graphql"

    # The phone rings: Tidegate runs the pop at once and pushes it to the agent's softphone.
    async with GraphQLWs.connect(url.replace("http://", "ws://"), token) as ws:
        op = await ws.subscribe(POPS, {"a": "A7201"})
        assert bff.cti("CALL_RINGING", "A7201", "call-7201", caller.mobile).status_code == 204
        async with asyncio.timeout(15):  # a safety net against a hang, not a latency assertion
            pushed = await ws.receive(op)
    assert pushed["payload"]["data"]["screenPop"] == {"callId": "call-7201", "prefetched": True}
    rung = calls(sims)

    # Answered: the softphone asks for the pop by the operation's hash alone, over GET.
    params = {
        "extensions": orjson.dumps(APQ).decode(),
        "variables": orjson.dumps({"phone": caller.mobile}).decode(),
    }
    variables = {"phone": caller.mobile}
    by_id = {"documentId": f"sha256:{SCREEN_POP.id}", "variables": variables}
    async with httpx.AsyncClient(headers=auth) as http:
        got = await http.get(url, params=params, headers={"apollo-require-preflight": "true"})
        assert customers(got) == expected
        answered = calls(sims)
        # Served from the ring-time pop (classed critical, primed as a text `ScreenPop` would be): the
        # CRM's phone lookup only, which binds the call here.
        changed = {k: v - rung.get(k, 0) for k, v in answered.items() if v != rung.get(k, 0)}
        assert changed == {"crm.searchContacts": 1}

        # The same over POST, by APQ hash and by GraphQL-over-HTTP documentId.
        assert customers(await http.post(url, json={"extensions": APQ, "variables": variables})) == expected
        assert customers(await http.post(url, json=by_id)) == expected

        # A GET without a preflight header is refused before anything runs, and so is any document
        # the softphone sends that is not in the manifest.
        refused = await http.get(url, params=params)
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["extensions"]["code"] == "CSRF_PREFLIGHT_REQUIRED"
        free_form = await http.post(url, json={"query": 'query { customerByPhone(phone: "1") { id } }'})
        assert free_form.status_code == 403
        assert free_form.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"

    # The request log names the client (never the variables).
    lines = [
        orjson.loads(line)
        for line in bff.log().splitlines()
        if line.startswith("{") and "graphql request" in line
    ]
    softphone = [line for line in lines if line.get("client_name") == "softphone-bar"]
    assert len(softphone) == 5 and {line["client_version"] for line in softphone} == {"3.2.1"}
    assert {line["operation"] for line in softphone if line["outcome"] == "ok"} == {"ScreenPop"}
    assert caller.mobile and caller.mobile not in bff.log()
