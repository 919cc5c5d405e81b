"""营收 rows to domain records: pure functions, no I/O. Column names and codes come from codes.yaml.

Codes the tables do not know become the enum's UNKNOWN (logged by CodeTables with the raw code);
values the system left blank become None; anything unreadable is a BackendProtocolError.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from enum import Enum

from backends.billing.row import Row
from backends.codes import CodeTables
from backends.vendor_times import from_compact_local
from domain.drafts import FeeAdjustmentDraft, FeeAdjustmentRequest
from domain.enums import (
    AccountStatus,
    BillStatus,
    DirectDebitStatus,
    FeeAdjustmentStatus,
    MeterReadStatus,
    PaymentMethod,
    WaterUseType,
)
from domain.phones import national
from domain.records import Account, Bill, DirectDebit, Meter, MeterRead, Payment, TierLine
from domain.timestamps import SHANGHAI

_PERIOD = re.compile(r"(\d{4})(0[1-9]|1[0-2])")
# 日结, the nightly settlement: billing refuses every write from 23:30 to 00:30 Shanghai time.
SETTLEMENT_STARTS, SETTLEMENT_ENDS = time(23, 30), time(0, 30)
UNANNOUNCED_FREEZE_RETRY_S = 60  # a write freeze outside that window: billing names no end


def _instant(at: datetime | None) -> float:
    """Sort key that puts undated rows last when sorting newest first."""
    return at.timestamp() if at else float("-inf")


def account_no(row: Row, column: str) -> str:
    """户号 are 10 digits with leading zeros; a row that lost its zeros gets them back."""
    value = row.required(column)
    if not value.isdigit() or len(value) > 10:
        raise row.fail(column, f"not a 户号: {value!r}")
    return value.zfill(10)


def _phone(row: Row, column: str) -> str | None:
    value = row.text(column)
    return national(value) if value else None


def account(row: Row, t: CodeTables) -> Account:
    f = t.field
    id_card = row.text(f("account.id_card"))
    return Account(
        account_no=account_no(row, f("account.account_no")),
        customer_no=row.required(f("account.customer_no")),
        holder_name=row.required(f("account.holder_name")),
        address=row.text(f("account.address")),
        status=t.lookup("account_status", row.text(f("account.status")), AccountStatus),
        use_type=t.lookup("use_type", row.text(f("account.use_type")), WaterUseType),
        pay_method=t.lookup("pay_method", row.text(f("account.pay_method")), PaymentMethod),
        mobile=_phone(row, f("account.mobile")),
        landline=_phone(row, f("account.landline")),
        id_card=id_card.upper() if id_card else None,
        balance=row.money(f("account.balance")),
        arrears=row.money(f("account.arrears")),
        late_fee=row.money(f("account.late_fee")),
        current_tier=row.integer_or_none(f("account.current_tier")),
        year_to_date_m3=row.integer_or_none(f("account.year_to_date_m3")),
        opened_on=row.day(f("account.opened_on")),
        meter_no=row.text(f("account.meter_no")),
        direct_debit=row.text(f("account.direct_debit")) == "1",
    )


def accounts(answer: Row, t: CodeTables) -> list[Account]:
    """Rows in the order the system listed them (QueryAccountsByPhone, GetAccounts)."""
    return [account(r, t) for r in answer.rows(t.field("account.row"))]


def period(row: Row, column: str) -> str:
    """账期 `yyyyMM` as `YYYY-MM`."""
    value = row.required(column)
    match = _PERIOD.fullmatch(value)
    if match is None:
        raise row.fail(column, f"expected yyyyMM, got {value!r}")
    return f"{match[1]}-{match[2]}"


def tier(row: Row, t: CodeTables) -> TierLine:
    f = t.field
    return TierLine(
        tier=row.integer(f("tier.tier")),
        volume_m3=row.integer(f("tier.volume_m3")),
        unit_price=row.money(f("tier.unit_price")),
        amount=row.money(f("tier.amount")),
    )


def bill(row: Row, t: CodeTables) -> Bill:
    f = t.field
    return Bill(
        bill_no=row.required(f("bill.bill_no")),
        period=period(row, f("bill.period")),
        read_at=row.timestamp(f("bill.read_at")),
        usage_m3=row.integer(f("bill.usage_m3")),
        water=row.money(f("bill.water")),
        sewage=row.money(f("bill.sewage")),
        resource=row.money(f("bill.resource")),
        total=row.money(f("bill.total")),
        paid=row.money(f("bill.paid")),
        outstanding=row.money(f("bill.outstanding")),
        status=t.lookup("bill_status", row.text(f("bill.status")), BillStatus),
        issued_on=row.day(f("bill.issued_on")),
        due_on=row.day(f("bill.due_on")),
        paid_at=row.timestamp(f("bill.paid_at")),
        tiers=tuple(tier(r, t) for r in row.rows(f("tier.row"))),
    )


def bills(answer: Row, t: CodeTables) -> list[Bill]:
    """Newest period first (the system's own order, made sure of)."""
    return sorted(
        (bill(r, t) for r in answer.rows(t.field("bill.row"))), key=lambda b: b.period, reverse=True
    )


def payment(row: Row, t: CodeTables) -> Payment:
    f = t.field
    return Payment(
        serial=row.required(f("payment.serial")),
        paid_at=row.timestamp(f("payment.paid_at")),
        amount=row.money(f("payment.amount")),
        method=t.lookup("pay_method", row.text(f("payment.method")), PaymentMethod),
        bill_no=row.text(f("payment.bill_no")),
    )


def payments(answer: Row, t: CodeTables) -> list[Payment]:
    """Newest first by payment time: the system lists them by bill, which is not quite the same."""
    rows = [payment(r, t) for r in answer.rows(t.field("payment.row"))]
    return sorted(rows, key=lambda p: _instant(p.paid_at), reverse=True)


def direct_debit(row: Row, t: CodeTables) -> DirectDebit:
    f = t.field
    return DirectDebit(
        bank_code=row.required(f("direct_debit.bank_code")),
        bank_name=row.required(f("direct_debit.bank_name")),
        bank_account=row.required(f("direct_debit.bank_account")),
        holder=row.required(f("direct_debit.holder")),
        status=t.lookup("direct_debit_status", row.text(f("direct_debit.status")), DirectDebitStatus),
        signed_on=row.day(f("direct_debit.signed_on")),
    )


def first_direct_debit(answer: Row, t: CodeTables) -> DirectDebit | None:
    """GetDirectDebit answers JLS 0 and no row for an account without a 代扣 agreement."""
    found = answer.rows(t.field("direct_debit.row"))
    return direct_debit(found[0], t) if found else None


def meter_read(row: Row, t: CodeTables) -> MeterRead:
    """The system keeps the reading day only (CBRQ): read_at is that day's local midnight."""
    f = t.field
    day = row.day(f("read.read_on"))
    return MeterRead(
        read_at=from_compact_local(f"{day:%Y%m%d}000000") if day else None,
        previous_reading=row.integer_or_none(f("read.previous_reading")),
        reading=row.integer(f("read.reading")),
        usage_m3=row.integer(f("read.usage_m3")),
        status=t.lookup("read_status", row.text(f("read.status")), MeterReadStatus),
        reader=row.text(f("read.reader")),
    )


def meter(meter_answer: Row, reads_answer: Row | None, t: CodeTables) -> Meter:
    """GetMeter's row with GetMeterReads' rows, newest read first."""
    f = t.field
    found = meter_answer.rows(f("meter.row"))
    if not found:
        raise meter_answer.fail(f("meter.row"), "missing")
    row = found[0]
    reads = [meter_read(r, t) for r in reads_answer.rows(f("read.row"))] if reads_answer else []
    return Meter(
        meter_no=row.required(f("meter.meter_no")),
        size_mm=row.integer_or_none(f("meter.size_mm")),
        installed_on=row.day(f("meter.installed_on")),
        reads=tuple(sorted(reads, key=lambda r: _instant(r.read_at), reverse=True)),
    )


def vendor_code(t: CodeTables, table: str, member: Enum) -> str:
    """The one wire code meaning `member` (the tables map codes to members; writes go the other way)."""
    codes = sorted(code for code, m in t.tables[table].items() if m is member)
    if not codes:
        raise ValueError(f"billing: no {table} code for {member}")
    return codes[0]


def reason_text(explanation: str, client_ref: str) -> str:
    """TZYY as the approver reads it: the supervisor's words, then our reference to reconcile by hand."""
    return f"{explanation} [{client_ref}]"


def adjustment_params(draft: FeeAdjustmentDraft, t: CodeTables) -> list[tuple[str, str]]:
    """SubmitFeeAdjustment's parameters as (column, value), in the manual's order; no ZDBH without a bill."""
    f = t.field
    params = [
        (f("request.account_no"), draft.account_no),
        (f("adjustment.type"), vendor_code(t, "adjustment_type", draft.reason)),
        (f("adjustment.amount"), str(draft.amount.fen)),
        (f("adjustment.reason"), reason_text(draft.explanation, draft.client_ref)),
        (f("adjustment.operator"), draft.operator),
    ]
    if draft.bill_no is not None:
        params.append((f("adjustment.bill_no"), draft.bill_no))
    return params


def fee_adjustment(answer: Row, draft: FeeAdjustmentDraft, t: CodeTables) -> FeeAdjustmentRequest:
    """Billing's receipt (number, account, status, time) with what was asked for beside it."""
    f = t.field
    return FeeAdjustmentRequest(
        request_no=answer.required(f("adjustment.request_no")),
        account_no=account_no(answer, f("adjustment.account_no")),
        status=t.lookup("adjustment_status", answer.text(f("adjustment.status")), FeeAdjustmentStatus),
        submitted_at=answer.timestamp(f("adjustment.submitted_at")),
        reason=draft.reason,
        amount=draft.amount,
        explanation=draft.explanation,
        bill_no=draft.bill_no,
        client_ref=draft.client_ref,
    )


def settlement_retry_after_s(now: datetime) -> float:
    """Seconds until billing takes writes again: the end of 日结 inside its window; a minute otherwise."""
    local = now.astimezone(SHANGHAI)
    if SETTLEMENT_ENDS <= local.time() < SETTLEMENT_STARTS:
        return float(UNANNOUNCED_FREEZE_RETRY_S)
    end = local.replace(hour=SETTLEMENT_ENDS.hour, minute=SETTLEMENT_ENDS.minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return (end - local).total_seconds()
