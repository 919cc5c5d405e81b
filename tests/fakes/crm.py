"""An in-memory CRM (the contact master) behind `CrmPort`."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from domain.drafts import NoteDraft, SmsDraft, SmsReceipt
from domain.enums import InteractionChannel, InteractionOutcome, InteractionType
from domain.network import SensitiveCustomer
from domain.records import Customer, Interaction
from domain.timestamps import SHANGHAI
from infra.errors import NotFound
from tests.fakes.calls import CallLog, check_batch


@dataclass
class InMemoryCrm:
    """Customers keyed by number; each contact's history newest first, with the reference each note
    was added under kept beside it (the real CRM keeps it in the note's text)."""

    customers: dict[str, Customer] = field(default_factory=dict)
    histories: dict[str, list[Interaction]] = field(default_factory=dict)
    note_refs: dict[str, str] = field(default_factory=dict)  # interaction id -> client_ref
    register: list[SensitiveCustomer] = field(default_factory=list)
    outbox: dict[str, SmsDraft] = field(default_factory=dict)  # client_ref -> the message sent
    log: CallLog = field(default_factory=CallLog)
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI))
    MAX_BATCH: int = 100
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    async def contacts_by_phone(self, phone: str) -> list[Customer]:
        self.log.record("contacts_by_phone")
        return [c for c in self.customers.values() if phone in c.mobiles or phone in c.landlines]

    async def contacts_by_customer_no(self, customer_nos: Sequence[str]) -> dict[str, Customer]:
        self.log.record("contacts_by_customer_no")
        check_batch(customer_nos, self.MAX_BATCH, "contacts_by_customer_no", empty_ok=False)
        return {n: self.customers[n] for n in customer_nos if n in self.customers}

    async def interactions(self, crm_ids: Sequence[str], last: int) -> dict[str, list[Interaction]]:
        self.log.record("interactions")
        check_batch(crm_ids, self.MAX_BATCH, "interactions", empty_ok=False)
        return {cid: self.histories.get(cid, [])[:last] for cid in crm_ids}

    async def add_note(self, draft: NoteDraft) -> Interaction:
        self.log.record("add_note")
        if draft.contact_id not in {c.crm_id for c in self.customers.values()}:
            raise NotFound("crm", f"no contact {draft.contact_id!r}")
        note = Interaction(
            interaction_id=f"N{next(self._ids):08d}",
            at=self.now,
            channel=InteractionChannel.PHONE,
            kind=InteractionType.NOTE,
            outcome=InteractionOutcome.RESOLVED,
            agent_id=draft.agent_id,
            summary=draft.text,
            duration_s=0,
            account_no=None,
        )
        self.histories.setdefault(draft.contact_id, []).insert(0, note)
        self.note_refs[note.interaction_id] = draft.client_ref
        return note

    async def note_by_reference(self, contact_id: str, client_ref: str) -> Interaction | None:
        self.log.record("note_by_reference")
        found = [
            i
            for i in self.histories.get(contact_id, [])
            if self.note_refs.get(i.interaction_id) == client_ref
        ]
        return found[0] if found else None

    async def sensitive_customers(self) -> list[SensitiveCustomer]:
        self.log.record("sensitive_customers")
        return list(self.register)

    async def send_sms(self, messages: Sequence[SmsDraft]) -> SmsReceipt:
        self.log.record("send_sms")
        check_batch(messages, self.MAX_BATCH, "send_sms", empty_ok=False)
        accepted = 0
        for m in messages:
            if m.client_ref not in self.outbox:
                self.outbox[m.client_ref] = m
                accepted += 1
        return SmsReceipt(accepted, len(messages) - accepted)

    async def sms_sent(self, ref_prefix: str) -> int:
        self.log.record("sms_sent")
        return sum(1 for ref in self.outbox if ref.startswith(ref_prefix))
