"""An in-memory billing system (营收) behind `BillingPort`."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from domain.drafts import FeeAdjustmentDraft, FeeAdjustmentRequest
from domain.enums import FeeAdjustmentStatus
from domain.records import Account, Bill, DirectDebit, Meter, Payment
from domain.timestamps import SHANGHAI
from infra.errors import NotFound
from tests.fakes.calls import CallLog, check_batch, positive


@dataclass
class InMemoryBilling:
    """Accounts keyed by number; bills, payments and reads held newest first, as billing answers them."""

    accounts_by_no: dict[str, Account] = field(default_factory=dict)
    bills_by_account: dict[str, list[Bill]] = field(default_factory=dict)
    payments_by_account: dict[str, list[Payment]] = field(default_factory=dict)
    meters: dict[str, Meter] = field(default_factory=dict)
    mandates: dict[str, DirectDebit] = field(default_factory=dict)
    submitted: list[FeeAdjustmentRequest] = field(default_factory=list)
    log: CallLog = field(default_factory=CallLog)
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI))
    MAX_BATCH: int = 50
    _request_nos: itertools.count[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    async def accounts_by_phone(self, phone: str) -> list[Account]:
        self.log.record("accounts_by_phone")
        return [a for a in self.accounts_by_no.values() if phone in (a.mobile, a.landline)]

    async def search_accounts(self, name: str | None, address: str | None, limit: int) -> list[Account]:
        self.log.record("search_accounts")
        return [
            a
            for a in self.accounts_by_no.values()
            if (not name or name in a.holder_name) and (not address or address in (a.address or ""))
        ][:limit]

    async def accounts(self, account_nos: Sequence[str]) -> dict[str, Account]:
        self.log.record("accounts")
        check_batch(account_nos, self.MAX_BATCH, "accounts")
        return {n: self.accounts_by_no[n] for n in dict.fromkeys(account_nos) if n in self.accounts_by_no}

    async def bills(self, account_no: str, last: int) -> list[Bill]:
        self.log.record("bills")
        positive("last", last)
        return self.bills_by_account.get(self._known(account_no), [])[:last]

    async def payments(self, account_no: str, last: int) -> list[Payment]:
        self.log.record("payments")
        positive("last", last)
        return self.payments_by_account.get(self._known(account_no), [])[:last]

    async def meter(self, account_no: str, reads: int) -> Meter:
        self.log.record("meter")
        if reads < 0:
            raise ValueError(f"reads must be 0 or more, got {reads}")
        meter = self.meters.get(self._known(account_no))
        if meter is None:
            raise NotFound("billing", f"no meter on {account_no!r}")
        return replace(meter, reads=meter.reads[:reads])

    async def direct_debit(self, account_no: str) -> DirectDebit | None:
        self.log.record("direct_debit")
        return self.mandates.get(self._known(account_no))

    async def submit_fee_adjustment(self, draft: FeeAdjustmentDraft) -> FeeAdjustmentRequest:
        self.log.record("submit_fee_adjustment")
        request = FeeAdjustmentRequest(
            request_no=f"TZ{next(self._request_nos):010d}",
            account_no=self._known(draft.account_no),
            status=FeeAdjustmentStatus.PENDING_APPROVAL,
            submitted_at=self.now,
            reason=draft.reason,
            amount=draft.amount,
            explanation=draft.explanation,
            bill_no=draft.bill_no,
            client_ref=draft.client_ref,
        )
        self.submitted.append(request)
        return request

    def _known(self, account_no: str) -> str:
        if account_no not in self.accounts_by_no:
            raise NotFound("billing", f"no account {account_no!r}", vendor_code="1001")
        return account_no
