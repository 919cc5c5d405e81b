"""The demo's softphone for the workbench: sign-in and "ring me", so a person can take a call alone.

Mounted only when the embedded (demo) token issuer is on (`TIDEGATE_LOCAL_ISSUER=true`) and a CTI
secret is set: a production BFF verifies the utility's tokens and hears from the real CTI, and these
routes do not exist there (404). Three endpoints, all JSON:

- `POST /workbench/demo/token {"agentId"}`: an agent token from the embedded issuer, as `tidegate
  token --role agent` mints it; the page keeps it in memory and asks again before it expires.
- `POST /workbench/demo/cti {"event", "agentId", "callId"?, "customerNo"?}`: Tidegate plays the CTI.
  For `CALL_RINGING` it finds the customer's phone number (the CRM, as the telephone network would
  present the caller's number) and posts a signed ring event to its own `POST /cti/events`, with the
  demo CTI secret, server-side: the page never holds the secret. `CALL_ANSWERED` / `CALL_ENDED`
  move the same call on. The answer is the CTI endpoint's own status, with the call id.
"""

from __future__ import annotations

import re
import uuid

import httpx
import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from domain.keys import customer_no as canonical_customer_no
from gateway.auth.clients import DEMO_SIGN_IN_CLIENT
from gateway.auth.issuer import LocalIssuer
from gateway.http.errors import error_response
from gateway.live.cti import EVENTS, signed_event
from services.errors import ErrorCode

DEMO_AGENTS = ("A1001", "A1002", "A1003", "A1004", "A1005", "A1006")
DEMO_CALLERS = ("2", "3", "5", "7", "11", "13")  # customer numbers the "ring me" list offers
_AGENT = re.compile(r"[A-Za-z0-9_-]{1,32}")
_CALL = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def _bad(message: str) -> Response:
    return error_response(400, message, ErrorCode.BAD_REQUEST)


async def _body(request: Request) -> dict[str, object] | None:
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


class DemoSoftphone:
    def __init__(self, issuer: LocalIssuer, cti_secret: str) -> None:
        self.issuer = issuer
        self.cti_secret = cti_secret

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/workbench/demo/token", self.token, methods=["POST"], name="workbench-demo-token"),
            Route("/workbench/demo/cti", self.cti, methods=["POST"], name="workbench-demo-cti"),
        ]

    def page_config(self) -> dict[str, object]:
        """What the workbench page offers in the demo: agents to sign in as, callers to ring with."""
        return {"demo": True, "agents": list(DEMO_AGENTS), "callers": list(DEMO_CALLERS)}

    async def token(self, request: Request) -> Response:
        body = await _body(request)
        agent_id = body.get("agentId") if body else None
        if not isinstance(agent_id, str) or not _AGENT.fullmatch(agent_id):
            return _bad('send {"agentId": "A1001"}')
        token = self.issuer.mint(client_id=DEMO_SIGN_IN_CLIENT, role="agent", agent_id=agent_id)
        return JSONResponse(
            {"access_token": token, "token_type": "Bearer", "expires_in": self.issuer.ttl_s},
            headers={"Cache-Control": "no-store"},
        )

    async def cti(self, request: Request) -> Response:
        body = await _body(request) or {}
        event, agent_id = body.get("event"), body.get("agentId")
        call_id = body.get("callId") or f"wb-{uuid.uuid4().hex[:12]}"
        if event not in EVENTS or not isinstance(agent_id, str) or not _AGENT.fullmatch(agent_id):
            return _bad('send {"event": "CALL_RINGING", "agentId": "A1001", "customerNo": "2"}')
        if not isinstance(call_id, str) or not _CALL.fullmatch(call_id):
            return _bad("callId: 1-64 letters, digits or _.:-")
        caller = None
        if event == "CALL_RINGING":
            caller = await self._phone_of(request, body.get("customerNo"))
            if caller is None:
                return error_response(404, "no such customer, or one without a phone", ErrorCode.NOT_FOUND)
        payload, headers = signed_event(self.cti_secret, str(event), agent_id, call_id, caller)
        async with httpx.AsyncClient(base_url=str(request.base_url), timeout=5.0) as client:
            answer = await client.post("/cti/events", content=payload, headers=headers)
        status = answer.status_code if answer.status_code >= 400 else 200
        return JSONResponse({"callId": call_id, "status": answer.status_code}, status_code=status)

    async def _phone_of(self, request: Request, customer_no: object) -> str | None:
        if not isinstance(customer_no, str | int) or not str(customer_no).isdigit():
            return None
        number = canonical_customer_no(int(customer_no))
        contacts = await request.state.backends.crm.contacts_by_customer_no([number])
        contact = contacts.get(number)
        if contact is None:
            return None
        phones = (*contact.mobiles, *contact.landlines)
        return phones[0] if phones else None
