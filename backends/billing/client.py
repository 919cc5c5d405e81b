"""The 营收 (billing) client: one method per question the BFF asks, answers in domain records.

Each call is one SOAP request through BackendHttp (total deadline, transport errors mapped);
faults and malformed answers become the backend error tree here, so nothing above this
package sees SOAP, pinyin columns or vendor codes.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import httpx

from backends.billing import mapping, wire
from backends.billing.errors import SettlementInProgress, error_for
from backends.billing.row import Row
from backends.billing.tables import load_tables
from domain.drafts import FeeAdjustmentDraft, FeeAdjustmentRequest
from domain.records import Account, Bill, DirectDebit, Meter, Payment
from domain.timestamps import SHANGHAI
from infra.errors import BackendProtocolError, BackendServerError, InvalidRequest
from infra.http.client import BackendHttp
from infra.http.config import BackendConfig
from infra.http.exchange import Answer
from infra.resilience.guards import GuardState
from infra.telemetry import NO_TELEMETRY, BackendTelemetry

REVENUE = "/ws/RevenueService"  # UTF-8
METER = "/ws/MeterReadingService"  # answers GBK
MAX_PERIODS = 120  # the most ZQS (账期数) the system accepts
WRITES = frozenset({"SubmitFeeAdjustment"})  # never retried: every other operation only reads
_ACCOUNT_NO = re.compile(r"\d{10}")

A = TypeVar("A")
B = TypeVar("B")


class BillingClient:
    name = "billing"
    MAX_BATCH = 50

    def __init__(
        self,
        config: BackendConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        tables_path: Path | None = None,
        telemetry: BackendTelemetry = NO_TELEMETRY,
    ) -> None:
        self.tables = load_tables(tables_path)  # first: a broken codes.yaml stops start-up
        self._http = BackendHttp(config, transport, telemetry=telemetry)

    async def __aenter__(self) -> BillingClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def guard_state(self) -> GuardState:
        """This client's breaker, bulkhead and rate budget now (for the supervisor's board)."""
        return self._http.guard_state()

    def share(self, replicas: int) -> None:
        """This replica's part of the fleet's bulkhead and rate budget (`infra.fleet`)."""
        self._http.share(replicas)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def accounts_by_phone(self, phone: str) -> list[Account]:
        """Every account of every customer on this number; [] when none.

        QueryAccountsByPhone lists summary rows without money, so the accounts it names are
        then fetched in full with GetAccounts (50 per call, concurrently).
        """
        f = self.tables.field
        digits = re.sub(r"\D", "", phone)
        answer = await self._call(REVENUE, "QueryAccountsByPhone", wire.leaf(f("request.phone"), digits))
        numbers = list(
            dict.fromkeys(
                mapping.account_no(r, f("account.account_no")) for r in answer.rows(f("account.row"))
            )
        )
        chunks = [numbers[i : i + self.MAX_BATCH] for i in range(0, len(numbers), self.MAX_BATCH)]
        found: dict[str, Account] = {}
        for part in await asyncio.gather(*(self.accounts(chunk) for chunk in chunks)):
            found.update(part)
        return [found[n] for n in numbers if n in found]

    async def search_accounts(self, name: str | None, address: str | None, limit: int) -> list[Account]:
        """Accounts whose 户名 and/or 地址 contain these parts (QueryAccounts, at most `limit` ≤ 20 rows),
        then read in full with GetAccounts, in billing's order."""
        if not name and not address:
            raise ValueError("a name or an address to search for")
        f = self.tables.field
        params = [wire.leaf(f("request.max_rows"), str(max(1, min(limit, 20))))]
        if name:
            params.append(wire.leaf(f("request.name"), name))
        if address:
            params.append(wire.leaf(f("request.address"), address))
        answer = await self._call(REVENUE, "QueryAccounts", *params)
        numbers = list(
            dict.fromkeys(
                mapping.account_no(r, f("account.account_no")) for r in answer.rows(f("account.row"))
            )
        )[:limit]
        found = await self.accounts(numbers) if numbers else {}
        return [found[n] for n in numbers if n in found]

    async def accounts(self, account_nos: Sequence[str]) -> dict[str, Account]:
        """One GetAccounts call for up to 50 户号; unknown (or malformed) ones are simply absent."""
        wanted = list(dict.fromkeys(account_nos))
        if len(wanted) > self.MAX_BATCH:
            raise ValueError(f"at most {self.MAX_BATCH} account numbers per call, got {len(wanted)}")
        # One malformed 户号 would fault the whole batch (1002); it cannot exist, so leave it out.
        valid = [n for n in wanted if _ACCOUNT_NO.fullmatch(n)]
        if not valid:
            return {}
        f = self.tables.field
        numbers = wire.wrap(
            f("request.account_list"), *(wire.leaf(f("request.account_no"), n) for n in valid)
        )
        answer = await self._call(REVENUE, "GetAccounts", numbers)
        return {a.account_no: a for a in mapping.accounts(answer, self.tables) if a.account_no in valid}

    async def bills(self, account_no: str, last: int) -> list[Bill]:
        """The latest `last` bills, newest first; NotFound for an unknown 户号."""
        _positive("last", last)
        answer = await self._call(REVENUE, "GetBills", *self._account_args(account_no, last))
        return mapping.bills(answer, self.tables)[:last]

    async def payments(self, account_no: str, last: int) -> list[Payment]:
        """The latest `last` payments, newest first (GetPayments has no count: it sends them all)."""
        _positive("last", last)
        answer = await self._call(REVENUE, "GetPayments", *self._account_args(account_no))
        return mapping.payments(answer, self.tables)[:last]

    async def meter(self, account_no: str, reads: int) -> Meter:
        """GetMeter and GetMeterReads side by side on the GBK endpoint; `reads` 0 skips the reads."""
        if reads < 0:
            raise ValueError(f"reads must be 0 or more, got {reads}")
        meter_call = self._call(METER, "GetMeter", *self._account_args(account_no))
        if reads == 0:
            return mapping.meter(await meter_call, None, self.tables)
        reads_call = self._call(METER, "GetMeterReads", *self._account_args(account_no, reads))
        meter_answer, reads_answer = await _both(meter_call, reads_call)
        return mapping.meter(meter_answer, reads_answer, self.tables)

    async def direct_debit(self, account_no: str) -> DirectDebit | None:
        """The 代扣 agreement (signed or cancelled), or None when the account never had one."""
        answer = await self._call(REVENUE, "GetDirectDebit", *self._account_args(account_no))
        return mapping.first_direct_debit(answer, self.tables)

    async def submit_fee_adjustment(self, draft: FeeAdjustmentDraft) -> FeeAdjustmentRequest:
        """Queue an adjustment for approval: one call, never retried (a second call queues a second
        request). Billing cannot be asked for requests afterwards, so a lost answer stays unknown.
        During 日结 the refusal carries `retry_after_s`, when billing takes writes again."""
        self._account_args(draft.account_no)  # a malformed 户号 never reaches billing
        params = [wire.leaf(column, value) for column, value in mapping.adjustment_params(draft, self.tables)]
        try:
            answer = await self._call(REVENUE, "SubmitFeeAdjustment", *params)
        except SettlementInProgress as exc:
            exc.retry_after_s = mapping.settlement_retry_after_s(datetime.now(SHANGHAI))
            raise
        return mapping.fee_adjustment(answer, draft, self.tables)

    def _account_args(self, account_no: str, periods: int | None = None) -> list[str]:
        """HH (and ZQS), checked here: the system would only fault 1002 on a malformed 户号."""
        if not _ACCOUNT_NO.fullmatch(account_no):
            raise InvalidRequest(self.name, f"户号 must be 10 digits, got {account_no!r}")
        f = self.tables.field
        args = [wire.leaf(f("request.account_no"), account_no)]
        if periods is not None:
            args.append(wire.leaf(f("request.periods"), str(min(periods, MAX_PERIODS))))
        return args

    async def _call(self, path: str, op: str, *params: str) -> Row:
        headers = {"Content-Type": wire.CONTENT_TYPE, "SOAPAction": wire.soap_action(op)}
        return await self._http.fetch(
            "POST",
            path,
            lambda response: self._answer(op, response),
            idempotent=op not in WRITES,
            content=wire.request_body(op, *params),
            headers=headers,
        )

    def _answer(self, op: str, response: Answer) -> Row:
        """The `<{op}Response>` element, or the error the answer amounts to."""
        status = response.status_code
        try:
            root = wire.parse(response.content, response.headers.get("content-type"))
            fault = wire.find_fault(root)
            if fault is None and status == 200:
                answer = wire.response(root, op)
                fault = wire.status_fault(answer)
                if fault is None:
                    return answer
        except wire.WireError as exc:
            if status >= 500:
                raise BackendServerError(
                    self.name, f"{op}: HTTP {status} without a readable fault ({exc})"
                ) from exc
            raise BackendProtocolError(self.name, f"{op}: {exc}") from exc
        if fault is not None:
            raise error_for(op, fault)
        if status >= 500:
            raise BackendServerError(self.name, f"{op}: HTTP {status} without a fault")
        raise BackendProtocolError(self.name, f"{op}: unexpected HTTP {status}")


def _positive(name: str, value: int) -> None:
    if value < 1:
        raise ValueError(f"{name} must be 1 or more, got {value}")


async def _both(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """Both results; when one fails the other is cancelled rather than left running."""
    a, b = asyncio.ensure_future(first), asyncio.ensure_future(second)
    try:
        return await asyncio.gather(a, b)
    except BaseException:
        a.cancel()
        b.cancel()
        raise
