"""The texts an outage sends: one to each affected customer's mobile when it is declared, one (the
all-clear) when it is restored, through the CRM's SMS gateway.

One message per (outage, customer, kind), whatever happens: each goes under the reference
`<outage id>/D/<customer>` (`/R/` for the all-clear), and the CRM sends one message per reference,
counting a resent one as a duplicate. So a retried or repeated declaration resends the whole run and
only what was not yet sent goes out; the outbox's count under `<outage id>/D/` is the truth.

Bounded: customers are looked up in billing and the CRM in batches of the ports' size, texts go in
batches of the CRM's, one batch at a time. A run of more than `SYNC_LIMIT` customers goes on in the
background after the mutation answers (`background: true`); `outageNotices` counts the outbox.
Mobiles never reach a log line unmasked.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from domain.drafts import SmsDraft
from domain.ports import Backends
from domain.records import Outage
from services.context import RequestContext

logger = logging.getLogger("tidegate.services.outage_notices")

SYNC_LIMIT = 200  # customers notified before the mutation answers; more go on in the background
_running: set[asyncio.Task[None]] = set()  # kept referenced until done (asyncio holds weak refs)


@dataclass(frozen=True, slots=True)
class NoticeRun:
    """One notice run: how many customers it is for, how many texts this run sent (the rest were sent
    before, or have no mobile on record), and whether it is still going on in the background."""

    customers: int
    sent: int
    duplicates: int
    without_mobile: int
    background: bool


def reference(outage_id: str, customer_no: str, *, all_clear: bool) -> str:
    return f"{outage_prefix(outage_id, all_clear=all_clear)}{customer_no}"


def outage_prefix(outage_id: str, *, all_clear: bool) -> str:
    return f"{outage_id}/{'R' if all_clear else 'D'}/"


def masked(mobile: str) -> str:
    """138****5678: enough to tell two numbers apart in a log, not to call one."""
    return f"{mobile[:3]}****{mobile[-4:]}" if len(mobile) >= 7 else "****"


async def notify(
    ctx: RequestContext, outage: Outage, account_nos: Sequence[str], text: str, *, all_clear: bool
) -> NoticeRun:
    """Text the customers behind the accounts; in the background when there are many."""
    backends = ctx.backends
    customers = await _customers(backends, account_nos)
    if len(customers) <= SYNC_LIMIT:
        return await _send(backends, outage.outage_id, customers, text, all_clear=all_clear)
    task = asyncio.create_task(_in_background(backends, outage.outage_id, customers, text, all_clear))
    _running.add(task)
    task.add_done_callback(_running.discard)
    return NoticeRun(len(customers), 0, 0, 0, background=True)


async def sent(ctx: RequestContext, outage_id: str, *, all_clear: bool) -> int:
    """Texts the CRM's outbox holds for the outage (declared, or all-clear)."""
    return await ctx.backends.crm.sms_sent(outage_prefix(outage_id, all_clear=all_clear))


async def _customers(backends: Backends, account_nos: Sequence[str]) -> list[str]:
    """Billing's owner of each account, once each, in customer-number order."""
    step = backends.billing.MAX_BATCH
    owners: set[str] = set()
    for i in range(0, len(account_nos), step):
        found = await backends.billing.accounts(list(account_nos[i : i + step]))
        owners |= {a.customer_no for a in found.values()}
    return sorted(owners)


async def _send(
    backends: Backends, outage_id: str, customers: list[str], text: str, *, all_clear: bool
) -> NoticeRun:
    crm = backends.crm
    sent = duplicates = without = 0
    for i in range(0, len(customers), crm.MAX_BATCH):
        found = await crm.contacts_by_customer_no(customers[i : i + crm.MAX_BATCH])
        batch = []
        for no in customers[i : i + crm.MAX_BATCH]:
            contact = found.get(no)
            if contact is None or not contact.mobiles:
                without += 1
                continue
            batch.append(
                SmsDraft(reference(outage_id, no, all_clear=all_clear), no, contact.mobiles[0], text)
            )
        if batch:
            receipt = await crm.send_sms(batch)
            sent, duplicates = sent + receipt.accepted, duplicates + receipt.duplicates
            logger.info(
                "outage notices sent",
                extra={
                    "outage_id": outage_id,
                    "all_clear": all_clear,
                    "accepted": receipt.accepted,
                    "duplicates": receipt.duplicates,
                    "first_mobile": masked(batch[0].mobile),
                },
            )
    return NoticeRun(len(customers), sent, duplicates, without, background=False)


async def _in_background(
    backends: Backends, outage_id: str, customers: list[str], text: str, all_clear: bool
) -> None:
    try:
        run = await _send(backends, outage_id, customers, text, all_clear=all_clear)
        logger.info("outage notice run done", extra={"outage_id": outage_id, "sent": run.sent})
    except Exception:
        # Nothing is lost: declaring (or restoring) again resends the run, and the CRM skips what went.
        logger.exception(
            "outage notice run failed: declare again to finish it", extra={"outage_id": outage_id}
        )
