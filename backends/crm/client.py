"""The CRM's REST API: contacts by phone or customer number, interaction histories in bulk, notes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import httpx

from backends.crm import mapping
from backends.rest import RestApi
from domain.drafts import NoteDraft, SmsDraft, SmsReceipt
from domain.network import SensitiveCustomer
from domain.records import Customer, Interaction
from infra.errors import BackendProtocolError, NotFound
from infra.http.client import BackendHttp
from infra.http.config import BackendConfig
from infra.resilience.guards import GuardState
from infra.telemetry import NO_TELEMETRY, BackendTelemetry

API = "/crm/api/v2"
HISTORY_PAGE = 100  # the most listInteractions returns at once
HISTORY_PAGES = 5  # how far back a lost note is looked for: notes sort newest first
REGISTER_PAGE = 50  # entries per page of the sensitive-customer register
REGISTER_PAGES = 200  # a register longer than this many pages is a CRM fault, not data
_CONTACT_ID = re.compile(r"[A-Za-z0-9-]{1,40}")


class CrmClient:
    name = "crm"
    MAX_BATCH = 100

    def __init__(
        self,
        config: BackendConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        tables_path: Path | None = None,
        telemetry: BackendTelemetry = NO_TELEMETRY,
    ) -> None:
        tables = mapping.load_tables(tables_path or mapping.TABLES_PATH)
        self.api = RestApi(
            BackendHttp(config, transport, telemetry=telemetry),
            tables,
            message_key="message",
            max_batch=self.MAX_BATCH,
        )

    async def contacts_by_phone(self, phone: str) -> list[Customer]:
        """`phone` in national digits; every customer on record with that number."""
        body = await self.api.get("searchContacts", f"{API}/contacts", {"phone": phone})
        return self.api.rows(body, "items", mapping.customer, "searchContacts")

    async def contacts_by_customer_no(self, customer_nos: Sequence[str]) -> dict[str, Customer]:
        """One bulk query for up to 100 customers; unknown ones are simply absent."""
        self.api.check_batch(customer_nos)
        payload = {"customerNos": [mapping.to_crm_customer_no(n) for n in customer_nos]}
        body = await self.api.post("searchContactsBulk", f"{API}/contacts:search", payload, idempotent=True)
        return {
            c.customer_no: c for c in self.api.rows(body, "items", mapping.customer, "searchContactsBulk")
        }

    async def interactions(self, crm_ids: Sequence[str], last: int) -> dict[str, list[Interaction]]:
        """The latest `last` interactions (newest first) of each contact, in one call."""
        op = "batchQueryInteractions"
        self.api.check_batch(crm_ids)
        body = await self.api.post(
            op,
            f"{API}/interactions:batchQuery",
            {"contactIds": list(crm_ids), "limitPerContact": last},
            idempotent=True,  # a query sent as POST: safe to retry
        )
        out: dict[str, list[Interaction]] = {cid: [] for cid in crm_ids}
        for cid, rows in self.api.field(body, "results", dict, op).items():
            if not isinstance(rows, list):
                raise BackendProtocolError(self.name, f"{op}: results[{cid!r}] is not a list")
            out[cid] = [self.api.record(mapping.interaction, row, op) for row in rows]
        return out

    async def add_note(self, draft: NoteDraft) -> Interaction:
        """One POST, never retried: the CRM makes a second note for a second call. A caller that
        loses the answer finds the note again with `note_by_reference`."""
        op = "addNote"
        body = await self.api.post(
            op, self._contact(draft.contact_id, "notes"), mapping.note_body(self.api.tables, draft)
        )
        return self.api.record(
            mapping.interaction, self.api.field(body, self.api.tables.field("note_created"), dict, op), op
        )

    async def note_by_reference(self, contact_id: str, client_ref: str) -> Interaction | None:
        """The note added with `client_ref` among the contact's latest interactions, or None."""
        op, before = "listInteractions", None
        for _ in range(HISTORY_PAGES):
            params: dict[str, str | int] = {"limit": HISTORY_PAGE}
            if before is not None:
                params["before"] = before
            body = await self.api.get(op, self._contact(contact_id, "interactions"), params)
            rows = self.api.field(body, self.api.tables.field("interaction_list"), list, op)
            for row in rows:
                if isinstance(row, dict) and mapping.note_reference(self.api.tables, row) == client_ref:
                    return self.api.record(mapping.interaction, row, op)
            if len(rows) < HISTORY_PAGE:
                return None
            oldest = min(self.api.record(mapping.interaction, row, op).at for row in rows)
            before = int(oldest.timestamp())
        return None

    async def sensitive_customers(self) -> list[SensitiveCustomer]:
        """The whole register, page by page (`nextOffset` null after the last)."""
        op, t = "listSensitiveCustomers", self.api.tables
        out: list[SensitiveCustomer] = []
        offset: int | None = 0
        for _ in range(REGISTER_PAGES):
            if offset is None:
                return out
            body = await self.api.get(
                op, f"{API}/sensitiveCustomers", {"offset": offset, "limit": REGISTER_PAGE}
            )
            out.extend(self.api.rows(body, t.field("register_items"), mapping.sensitive_customer, op))
            following = body.get(t.field("register_next")) if isinstance(body, dict) else None
            if following is not None and (not isinstance(following, int) or following <= offset):
                raise BackendProtocolError(self.name, f"{op}: nextOffset {following!r} does not move on")
            offset = following
        raise BackendProtocolError(self.name, f"{op}: more than {REGISTER_PAGES} pages")

    async def send_sms(self, messages: Sequence[SmsDraft]) -> SmsReceipt:
        """One batch to the SMS gateway. Safe to resend: the CRM sends one message per `clientRef`
        and counts a resent one as a duplicate, so the batch goes out as a retried write may."""
        op = "sendSms"
        self.api.check_batch(messages)
        payload = {"messages": [mapping.sms_body(m) for m in messages]}
        body = await self.api.post(op, f"{API}/sms:batchSend", payload, idempotent=True)
        return SmsReceipt(
            self.api.field(body, "accepted", int, op), self.api.field(body, "duplicates", int, op)
        )

    async def sms_sent(self, ref_prefix: str) -> int:
        body = await self.api.get("listSms", f"{API}/sms", {"refPrefix": ref_prefix, "limit": 0})
        return int(self.api.field(body, "total", int, "listSms"))

    def _contact(self, contact_id: str, what: str) -> str:
        if not _CONTACT_ID.fullmatch(contact_id):
            raise NotFound(self.name, f"no contact {contact_id!r}")
        return f"{API}/contacts/{contact_id}/{what}"

    def guard_state(self) -> GuardState:
        """This client's breaker, bulkhead and rate budget now (for the supervisor's board)."""
        return self.api.http.guard_state()

    def share(self, replicas: int) -> None:
        """This replica's part of the fleet's bulkhead and rate budget (`infra.fleet`)."""
        self.api.http.share(replicas)

    async def aclose(self) -> None:
        await self.api.http.aclose()
