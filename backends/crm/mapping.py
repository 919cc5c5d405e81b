"""CRM JSON to domain records: pure functions, no I/O. Keys and codes come from codes.yaml."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from backends.codes import CodeTables, load_code_tables
from backends.vendor_times import from_epoch_seconds
from domain.drafts import NoteDraft, SmsDraft
from domain.enums import (
    CustomerKind,
    InteractionChannel,
    InteractionOutcome,
    InteractionType,
    SensitiveCategory,
)
from domain.keys import customer_digits
from domain.keys import customer_no as canonical_customer_no
from domain.network import SensitiveCustomer
from domain.phones import national
from domain.records import Customer, Interaction

TABLES_PATH = Path(__file__).with_name("codes.yaml")
ENUMS = {
    "customer_kind": CustomerKind,
    "channel": InteractionChannel,
    "interaction_type": InteractionType,
    "outcome": InteractionOutcome,
    "sensitive_category": SensitiveCategory,
}
FIELDS = frozenset(
    {
        "contact_id",
        "customer_no",
        "name",
        "kind",
        "phones",
        "phone_type",
        "phone_number",
        "accounts",
        "created_at",
        "vip",
        "tags",
        "interaction_id",
        "interaction_contact",
        "channel",
        "interaction_type",
        "outcome",
        "agent_id",
        "summary",
        "at",
        "duration_s",
        "account_no",
        "note_text",
        "note_agent",
        "note_created",
        "interaction_list",
        "register_items",
        "register_next",
        "register_id",
        "register_customer_no",
        "register_account_no",
        "register_category",
        "register_note",
    }
)
# Our reference at the end of a note's text (see `note_body`): the CRM keeps no client reference.
_REFERENCE = re.compile(r" \[(TG[0-9A-F]{30})\]$")


def load_tables(path: Path = TABLES_PATH) -> CodeTables:
    return load_code_tables("crm", path, ENUMS, FIELDS)


def to_crm_customer_no(customer_no: str) -> int:
    """The CRM keeps the utility's customer number as a bare integer: KH00000042 -> 42."""
    return int(customer_digits(customer_no))


def from_crm_customer_no(value: int) -> str:
    return canonical_customer_no(value)


def account_no(value: int | str) -> str:
    """The CRM stores 户号 as integers, losing the leading zeros the billing system keeps."""
    return f"{int(value):010d}"


def customer(t: CodeTables, row: dict[str, Any]) -> Customer:
    f = t.field
    mobiles: list[str] = []
    landlines: list[str] = []
    for phone in row.get(f("phones")) or []:
        number = national(str(phone.get(f("phone_number"), "")))
        if number is None:
            continue
        (mobiles if number.startswith("1") else landlines).append(number)
    created = row.get(f("created_at"))
    return Customer(
        customer_no=from_crm_customer_no(int(row[f("customer_no")])),
        crm_id=str(row[f("contact_id")]),
        name=str(row.get(f("name")) or "").strip(),
        kind=t.lookup("customer_kind", row.get(f("kind")), CustomerKind),
        mobiles=tuple(mobiles),
        landlines=tuple(landlines),
        account_nos=tuple(account_no(a) for a in row.get(f("accounts")) or []),
        vip=bool(row.get(f("vip"))),
        tags=tuple(str(tag) for tag in row.get(f("tags")) or []),
        since=from_epoch_seconds(created) if isinstance(created, int | float) else None,
    )


def sensitive_customer(t: CodeTables, row: dict[str, Any]) -> SensitiveCustomer:
    f = t.field
    note = row.get(f("register_note"))
    return SensitiveCustomer(
        register_id=str(row[f("register_id")]),
        customer_no=from_crm_customer_no(int(row[f("register_customer_no")])),
        account_no=account_no(row[f("register_account_no")]),
        category=t.lookup("sensitive_category", row.get(f("register_category")), SensitiveCategory),
        note=str(note).strip() or None if note is not None else None,
    )


def interaction(t: CodeTables, row: dict[str, Any]) -> Interaction:
    f = t.field
    acct = row.get(f("account_no"))
    return Interaction(
        interaction_id=str(row[f("interaction_id")]),
        at=from_epoch_seconds(row[f("at")]),
        channel=t.lookup("channel", row.get(f("channel")), InteractionChannel),
        kind=t.lookup("interaction_type", row.get(f("interaction_type")), InteractionType),
        outcome=t.lookup("outcome", row.get(f("outcome")), InteractionOutcome),
        agent_id=row.get(f("agent_id")) or None,
        summary=_REFERENCE.sub("", str(row.get(f("summary")) or "")),
        duration_s=int(row.get(f("duration_s")) or 0),
        account_no=account_no(acct) if acct is not None else None,
    )


def note_body(t: CodeTables, draft: NoteDraft) -> dict[str, Any]:
    """The add-note call's JSON: the agent's text with our reference after it, to find it by again."""
    f = t.field
    return {f("note_text"): f"{draft.text} [{draft.client_ref}]", f("note_agent"): draft.agent_id}


def note_reference(t: CodeTables, row: dict[str, Any]) -> str | None:
    """The reference a note was added with (from its raw text), or None for anyone else's."""
    found = _REFERENCE.search(str(row.get(t.field("summary")) or ""))
    return found.group(1) if found else None


def sms_body(draft: SmsDraft) -> dict[str, Any]:
    """One message for `sms:batchSend`: the CRM's customer number is an integer."""
    return {
        "clientRef": draft.client_ref,
        "customerNo": int(customer_digits(draft.customer_no)),
        "mobile": draft.mobile,
        "content": draft.text,
    }
