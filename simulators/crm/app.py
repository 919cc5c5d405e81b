"""The CRM's REST API under `/crm/api/v2`.

Errors are `{"code": ..., "message": ..., "requestId": ...}` with a 4xx/5xx status.
Batch endpoints take at most 100 ids and report unknown ones under `missing`.

The SMS gateway (`POST sms:batchSend`, at most 100 messages) keeps one message per `clientRef`: a
message under a reference already sent is answered `DUPLICATE` and not sent again, so a notice
campaign can be retried whole. `GET sms?refPrefix=` lists the outbox (what the gateway sent).
"""

from __future__ import annotations

import random
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulators.crm.records import contact_id, contact_json, interaction_json
from simulators.crm.sensitive import register
from simulators.kit.app import build_app
from simulators.kit.faults import Latency
from simulators.kit.options import SimOptions
from simulators.kit.rest import BadRequest, failure_status, json_body, json_response
from simulators.kit.runtime import SimFailure, SimRuntime
from simulators.world import World, phone_key
from simulators.world.history import Interaction

BATCH_MAX = 100
_MOBILE = re.compile(r"1[0-9]{10}")
PREFIX = "/crm/api/v2"

Handler = Callable[[Request], Awaitable[Response]]


def _error(code: str, message: str, status: int) -> Response:
    return json_response({"code": code, "message": message, "requestId": uuid.uuid4().hex[:16]}, status)


class CrmService:
    def __init__(self, world: World, runtime: SimRuntime) -> None:
        self.world = world
        self.runtime = runtime
        self.customer_of = {contact_id(c.customer_no): c.customer_no for c in world.customers}
        self.notes: dict[int, list[Interaction]] = defaultdict(list)
        self.register = register(world)
        self.sms: dict[str, dict[str, Any]] = {}  # clientRef -> the message sent: one per reference

    def _customer_no(self, contact: str) -> int:
        try:
            return self.customer_of[contact]
        except KeyError:
            raise BadRequest(f"contact {contact} not found", 404, "NOT_FOUND") from None

    def history(self, customer_no: int) -> list[Interaction]:
        merged = self.notes.get(customer_no, []) + self.world.interactions(customer_no)
        return sorted(merged, key=lambda i: i.at, reverse=True)

    async def search(self, request: Request) -> Response:
        q = request.query_params
        async with self.runtime.call("searchContacts") as call:
            if "phone" in q:
                digits = q["phone"]
                if not digits.isdigit() or not 7 <= len(digits) <= 12:
                    raise BadRequest("phone must be 7-12 digits, national format (no +86, no separators)")
                key = phone_key(digits)
                unlisted = key in self.world.crm_unlisted_phones  # billing knows it, the CRM never did
                found = [] if unlisted else self.world.customers_by_phone.get(key, [])
            elif "accountNo" in q:
                if not q["accountNo"].isdigit():
                    raise BadRequest("accountNo must be numeric")
                account = self.world.account_by_no.get(f"{int(q['accountNo']):010d}")
                found = [account.customer_no] if account else []
            elif "customerNo" in q:
                if not q["customerNo"].isdigit():
                    raise BadRequest("customerNo must be numeric")
                found = [int(q["customerNo"])] if int(q["customerNo"]) in self.world.customer_by_no else []
            else:
                raise BadRequest("one of phone, accountNo, customerNo is required")
            items = [contact_json(self.world, self.world.customer_by_no[n]) for n in found]
            return json_response({"items": items, "total": len(items)}, call=call)

    async def get_contact(self, request: Request) -> Response:
        async with self.runtime.call("getContact") as call:
            n = self._customer_no(request.path_params["contact_id"])
            return json_response(contact_json(self.world, self.world.customer_by_no[n]), call=call)

    async def batch_get(self, request: Request) -> Response:
        body = await json_body(request)
        ids = _id_list(body, "ids")
        async with self.runtime.call("batchGetContacts", batch=len(ids)) as call:
            items, missing = [], []
            for contact in ids:
                n = self.customer_of.get(contact)
                if n is None:
                    missing.append(contact)
                else:
                    items.append(contact_json(self.world, self.world.customer_by_no[n]))
            return json_response({"items": items, "missing": missing}, call=call)

    async def batch_search(self, request: Request) -> Response:
        """Contacts for many customer numbers at once (the CRM's bulk query API)."""
        body = await json_body(request)
        numbers = body.get("customerNos")
        if (
            not isinstance(numbers, list)
            or not numbers
            or not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers)
        ):
            raise BadRequest("customerNos must be a non-empty list of integers")
        if len(numbers) > BATCH_MAX:
            raise BadRequest(f"customerNos takes at most {BATCH_MAX} numbers, got {len(numbers)}")
        async with self.runtime.call("searchContactsBulk", batch=len(numbers)) as call:
            found = [n for n in dict.fromkeys(numbers) if n in self.world.customer_by_no]
            items = [contact_json(self.world, self.world.customer_by_no[n]) for n in found]
            missing = [n for n in dict.fromkeys(numbers) if n not in self.world.customer_by_no]
            return json_response({"items": items, "missing": missing}, call=call)

    async def list_interactions(self, request: Request) -> Response:
        limit = _int_param(request, "limit", 20, 1, 100)
        before = _int_param(request, "before", 2**62, 0, 2**62)
        async with self.runtime.call("listInteractions") as call:
            contact = request.path_params["contact_id"]
            items = [i for i in self.history(self._customer_no(contact)) if i.at < before][:limit]
            return json_response({"items": [interaction_json(contact, i) for i in items]}, call=call)

    async def batch_interactions(self, request: Request) -> Response:
        body = await json_body(request)
        ids = _id_list(body, "contactIds")
        limit = body.get("limitPerContact", 5)
        if not isinstance(limit, int) or not 1 <= limit <= 50:
            raise BadRequest("limitPerContact must be an integer from 1 to 50")
        async with self.runtime.call("batchQueryInteractions", batch=len(ids)) as call:
            results: dict[str, list[dict[str, Any]]] = {}
            missing = []
            for contact in ids:
                n = self.customer_of.get(contact)
                if n is None:
                    missing.append(contact)
                    continue
                results[contact] = [interaction_json(contact, i) for i in self.history(n)[:limit]]
            return json_response({"results": results, "missing": missing}, call=call)

    async def sensitive_customers(self, request: Request) -> Response:
        """The register of sensitive customers (重点保障用户), paged by offset."""
        offset = _int_param(request, "offset", 0, 0, 10**9)
        limit = _int_param(request, "limit", 50, 1, 200)
        async with self.runtime.call("listSensitiveCustomers") as call:
            page = self.register[offset : offset + limit]
            items = [
                {
                    "id": e.register_id,
                    "contactId": contact_id(e.customer_no),
                    "customerNo": e.customer_no,
                    "accountNo": int(e.account_no),
                    "category": e.category,
                    "remark": e.remark,
                }
                for e in page
            ]
            following = offset + limit if offset + limit < len(self.register) else None
            body = {"items": items, "total": len(self.register), "nextOffset": following}
            return json_response(body, call=call)

    async def add_note(self, request: Request) -> Response:
        body = await json_body(request)
        text, agent = body.get("text"), body.get("agentId")
        if not isinstance(text, str) or not 1 <= len(text.strip()) <= 2000:
            raise BadRequest("text must be 1-2000 characters")
        if not isinstance(agent, str) or not agent:
            raise BadRequest("agentId is required")
        async with self.runtime.call("addNote") as call:
            contact = request.path_params["contact_id"]
            n = self._customer_no(contact)
            note = Interaction(
                interaction_id=f"IXN{uuid.uuid4().hex[:12].upper()}",
                at=int(time.time()),
                channel="TEL",
                kind="BZ",
                outcome="YJJ",
                agent_id=agent,
                summary=text.strip(),
                duration_s=0,
                account_no=None,
            )
            self.notes[n].append(note)
            return json_response({"interaction": interaction_json(contact, note)}, 201, call=call)

    async def send_sms(self, request: Request) -> Response:
        body = await json_body(request)
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
            raise BadRequest("messages must be a non-empty list of objects")
        if len(messages) > BATCH_MAX:
            raise BadRequest(f"messages takes at most {BATCH_MAX}, got {len(messages)}")
        for m in messages:
            ref, mobile, content = m.get("clientRef"), m.get("mobile"), m.get("content")
            if not isinstance(ref, str) or not 1 <= len(ref) <= 64:
                raise BadRequest("clientRef must be 1-64 characters")
            if not isinstance(mobile, str) or not _MOBILE.fullmatch(mobile):
                raise BadRequest("mobile must be 11 digits starting with 1")
            if not isinstance(content, str) or not 1 <= len(content) <= 500:
                raise BadRequest("content must be 1-500 characters")
        async with self.runtime.call("sendSms", batch=len(messages)) as call:
            results = []
            for m in messages:
                ref = m["clientRef"]
                if ref in self.sms:
                    results.append({"clientRef": ref, "status": "DUPLICATE"})
                    continue
                self.sms[ref] = {
                    "clientRef": ref,
                    "customerNo": m.get("customerNo"),
                    "mobile": m["mobile"],
                    "content": m["content"],
                    "sentAt": int(time.time() * 1000),
                }
                results.append({"clientRef": ref, "status": "QUEUED"})
            accepted = sum(1 for r in results if r["status"] == "QUEUED")
            body = {"accepted": accepted, "duplicates": len(results) - accepted, "results": results}
            return json_response(body, call=call)

    async def list_sms(self, request: Request) -> Response:
        prefix = request.query_params.get("refPrefix", "")
        offset = _int_param(request, "offset", 0, 0, 10**9)
        limit = _int_param(request, "limit", 50, 0, 500)
        async with self.runtime.call("listSms") as call:
            found = [m for ref, m in self.sms.items() if ref.startswith(prefix)]
            body = {"items": found[offset : offset + limit], "total": len(found)}
            return json_response(body, call=call)


def _id_list(body: dict[str, Any], key: str) -> list[str]:
    ids = body.get(key)
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) or not ids:
        raise BadRequest(f"{key} must be a non-empty list of strings")
    if len(ids) > BATCH_MAX:
        raise BadRequest(f"{key} takes at most {BATCH_MAX} ids, got {len(ids)}")
    return ids


def _int_param(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise BadRequest(f"{name} must be an integer from {lo} to {hi}")
    return int(raw)


def _guard(op: str, handler: Handler) -> Handler:
    """Render caller mistakes and simulated failures in the CRM's error shape."""

    async def endpoint(request: Request) -> Response:
        request.state.sim_op = op
        try:
            return await handler(request)
        except BadRequest as exc:
            return _error(exc.code, exc.message, exc.status)
        except SimFailure as exc:
            return _error("SERVICE_UNAVAILABLE", "服务繁忙,请稍后再试", failure_status(exc))

    return endpoint


async def _crash(_: Request, exc: Exception) -> Response:
    return _error("INTERNAL", "internal error", 500)


def create_app(world: World, options: SimOptions, rng: random.Random) -> Starlette:
    runtime = SimRuntime(
        "crm",
        options.faults,
        latency={"batchQueryInteractions": Latency(35, 0.4)},
        default_latency=Latency(25, 0.4),
        rng=rng,
    )
    crm = CrmService(world, runtime)
    routes = [
        Route(f"{PREFIX}/contacts", _guard("searchContacts", crm.search), methods=["GET"]),
        Route(f"{PREFIX}/contacts:batchGet", _guard("batchGetContacts", crm.batch_get), methods=["POST"]),
        Route(f"{PREFIX}/contacts:search", _guard("searchContactsBulk", crm.batch_search), methods=["POST"]),
        Route(f"{PREFIX}/contacts/{{contact_id}}", _guard("getContact", crm.get_contact), methods=["GET"]),
        Route(
            f"{PREFIX}/contacts/{{contact_id}}/interactions",
            _guard("listInteractions", crm.list_interactions),
            methods=["GET"],
        ),
        Route(f"{PREFIX}/contacts/{{contact_id}}/notes", _guard("addNote", crm.add_note), methods=["POST"]),
        Route(
            f"{PREFIX}/sensitiveCustomers",
            _guard("listSensitiveCustomers", crm.sensitive_customers),
            methods=["GET"],
        ),
        Route(f"{PREFIX}/sms:batchSend", _guard("sendSms", crm.send_sms), methods=["POST"]),
        Route(f"{PREFIX}/sms", _guard("listSms", crm.list_sms), methods=["GET"]),
        Route(
            f"{PREFIX}/interactions:batchQuery",
            _guard("batchQueryInteractions", crm.batch_interactions),
            methods=["POST"],
        ),
    ]
    info = {"customers": len(world.customers), "seed": world.seed, "as_of": world.as_of.isoformat()}
    return build_app(runtime, routes, info, _crash)
