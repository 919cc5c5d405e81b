"""The operations of both endpoints: validate the request element, answer with a response element.

Conventions the BFF's anti-corruption layer has to know:
- every success response starts with `<FHDM>0</FHDM><FHXX>成功</FHXX>` (返回代码/信息);
- single-account operations fault with 1001 for an unknown 户号 and 1002 for one that is
  not 10 digits; `GetAccounts` (1-50 `<HH>`, in an optional `<HHLB>` wrapper) never faults
  for unknown ones: it returns the rows it found in `<HHLB>` and lists the others as
  `<HH>` under `<WZDHHLB>` (未找到户号列表), duplicates answered once, in request order;
- `QueryAccountsByPhone` matches `<DHHM>` on digits only and answers `<JLS>0</JLS>` when
  nothing matches; `QueryAccounts` matches part of `<HM>` (户名) and/or `<DZ>` (地址), at most
  `<ZDJLS>` (1-20) rows; `GetDirectDebit` answers `<JLS>0</JLS>` for an account without a 代扣 record;
- `SubmitFeeAdjustment` queues a request for approval (SQZT 01 待审批) and is refused with
  2001 during 日结 (23:30-00:30 Asia/Shanghai, real clock, unless the `settlement_window` knob
  is off) or while `writes_frozen` is set.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from xml.etree.ElementTree import Element

from simulators.billing import render
from simulators.billing.soap import (
    NOT_FOUND,
    NS,
    SETTLEMENT,
    El,
    SoapFault,
    bad_request,
    child_text,
    descendant_texts,
    leaf,
    node,
    required,
)
from simulators.kit.options import SimOptions
from simulators.kit.runtime import SimRuntime
from simulators.world import World, phone_key
from simulators.world.model import Account
from simulators.world.workorders import SHANGHAI

MAX_BATCH = 50
MAX_PERIODS = 120
ADJUSTMENT_TYPES = {"01": "滞纳金减免", "02": "水量调整", "03": "水费退补", "04": "其他"}
_ACCOUNT_NO = re.compile(r"\d{10}")
_DAY = re.compile(r"\d{8}")


@dataclass
class Context:
    world: World
    options: SimOptions
    runtime: SimRuntime
    clock: Callable[[], datetime] = lambda: datetime.now(SHANGHAI)
    adjustments: list[dict[str, Any]] = field(default_factory=list)
    serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


Handler = Callable[[Context, Element], El]


@dataclass(frozen=True)
class Operation:
    handler: Handler
    batch: Callable[[Element], int] = lambda _: 1


def ok(op: str, *children: El) -> El:
    return node(f"{op}Response", leaf("FHDM", "0"), leaf("FHXX", "成功"), *children, xmlns=NS)


def _account(ctx: Context, raw: str) -> Account:
    if not _ACCOUNT_NO.fullmatch(raw):
        raise bad_request(f"户号格式错误: {raw} (应为10位数字)")
    account = ctx.world.account_by_no.get(raw)
    if account is None:
        raise SoapFault(NOT_FOUND, "户号不存在", f"户号不存在: {raw}")
    return account


def _count(request: Element, name: str) -> int | None:
    raw = child_text(request, name)
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PERIODS:
        raise bad_request(f"{name} 应为 1-{MAX_PERIODS} 的整数: {raw}")
    return int(raw)


def query_by_phone(ctx: Context, request: Element) -> El:
    digits = phone_key(required(request, "DHHM"))
    if not 7 <= len(digits) <= 12:
        raise bad_request(f"电话号码格式错误: {digits}")
    customers = ctx.world.customers_by_phone.get(digits, [])
    rows = [render.account_summary(ctx.world, a) for c in customers for a in ctx.world.accounts_of.get(c, [])]
    return ok("QueryAccountsByPhone", leaf("JLS", len(rows)), node("HHLB", *rows))


MAX_QUERY_ROWS = 20


def query_accounts(ctx: Context, request: Element) -> El:
    """户名 (HM) and/or 地址 (DZ), each matched as a part (2+ characters), at most ZDJLS rows (1-20)."""
    name = (child_text(request, "HM") or "").strip()
    address = (child_text(request, "DZ") or "").strip()
    if not name and not address:
        raise bad_request("户名 HM 或地址 DZ 至少填一项")
    if any(0 < len(part) < 2 for part in (name, address)):
        raise bad_request("户名、地址至少两个字")
    raw = child_text(request, "ZDJLS") or str(MAX_QUERY_ROWS)
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_QUERY_ROWS:
        raise bad_request(f"ZDJLS 应为 1-{MAX_QUERY_ROWS} 的整数: {raw}")
    rows: list[El] = []
    for account in ctx.world.accounts:
        customer = ctx.world.customer_by_no[account.customer_no]
        if (not name or name in customer.name) and (not address or address in account.premises.address):
            rows.append(render.account_summary(ctx.world, account))
            if len(rows) == int(raw):
                break
    return ok("QueryAccounts", leaf("JLS", len(rows)), node("HHLB", *rows))


def _batch_numbers(request: Element) -> list[str]:
    return descendant_texts(request, "HH")


def get_accounts(ctx: Context, request: Element) -> El:
    numbers = _batch_numbers(request)
    if not numbers:
        raise bad_request("缺少户号列表 HH")
    if len(numbers) > MAX_BATCH:
        raise bad_request(f"单次最多查询 {MAX_BATCH} 个户号,实际 {len(numbers)} 个")
    bad = [n for n in numbers if not _ACCOUNT_NO.fullmatch(n)]
    if bad:
        raise bad_request(f"户号格式错误: {','.join(bad[:5])}")
    found: list[El] = []
    missing: list[El] = []
    for number in dict.fromkeys(numbers):
        account = ctx.world.account_by_no.get(number)
        if account is None:
            missing.append(leaf("HH", number))
        else:
            found.append(render.account_detail(ctx.world, ctx.options, account))
    return ok("GetAccounts", leaf("JLS", len(found)), node("HHLB", *found), node("WZDHHLB", *missing))


def get_bills(ctx: Context, request: Element) -> El:
    account = _account(ctx, required(request, "HH"))
    rows = render.bills(ctx.world.history(account.account_no), account.account_no, _count(request, "ZQS"))
    return ok("GetBills", leaf("HH", account.account_no), leaf("JLS", len(rows)), node("ZDLB", *rows))


def _day_arg(request: Element, name: str) -> str | None:
    raw = child_text(request, name)
    if raw is not None and not _DAY.fullmatch(raw):
        raise bad_request(f"{name} 日期格式应为 yyyyMMdd: {raw}")
    return raw


def get_payments(ctx: Context, request: Element) -> El:
    """Newest first, optionally within QSRQ..JZRQ (yyyyMMdd, both inclusive)."""
    account = _account(ctx, required(request, "HH"))
    start, end = _day_arg(request, "QSRQ") or "00000000", _day_arg(request, "JZRQ") or "99999999"
    payments = [
        p
        for p in reversed(ctx.world.history(account.account_no).payments)
        if start <= render.day(p.paid_at.date()) <= end
    ]
    rows = [render.payment(p) for p in payments]
    return ok("GetPayments", leaf("HH", account.account_no), leaf("JLS", len(rows)), node("JFLB", *rows))


def get_direct_debit(ctx: Context, request: Element) -> El:
    account = _account(ctx, required(request, "HH"))
    dd = ctx.world.history(account.account_no).direct_debit
    rows = [render.direct_debit(dd)] if dd else []
    return ok("GetDirectDebit", leaf("HH", account.account_no), leaf("JLS", len(rows)), *rows)


def in_settlement(now: datetime) -> bool:
    """日结 runs 23:30-00:30 Shanghai time; the ledger is locked for writes meanwhile."""
    local = now.astimezone(SHANGHAI).time()
    return local >= time(23, 30) or local < time(0, 30)


def submit_fee_adjustment(ctx: Context, request: Element) -> El:
    now = ctx.clock()
    faults = ctx.runtime.faults
    if faults.writes_frozen or (faults.settlement_window and in_settlement(now)):
        raise SoapFault(SETTLEMENT, "日结期间禁止写操作", "营收日结处理中,请于00:30后重试", "soap:Server")
    account = _account(ctx, required(request, "HH"))
    kind = required(request, "TZLX")
    if kind not in ADJUSTMENT_TYPES:
        raise bad_request(f"调整类型 TZLX 无效: {kind}")
    amount = required(request, "TZJE")
    if not re.fullmatch(r"-?\d{1,9}", amount) or int(amount) == 0:
        raise bad_request(f"调整金额 TZJE 应为非零整数(分): {amount}")
    reason = required(request, "TZYY")
    operator = required(request, "CZYH")
    bill_no = child_text(request, "ZDBH")
    if bill_no and bill_no not in {b.bill_no for b in ctx.world.history(account.account_no).bills}:
        raise bad_request(f"账单 {bill_no} 不属于户号 {account.account_no}")
    local = now.astimezone(SHANGHAI).replace(tzinfo=None)
    request_no = f"TZ{local:%Y%m%d}{next(ctx.serial):06d}"
    ctx.adjustments.append(
        {
            "SQDH": request_no,
            "HH": account.account_no,
            "TZLX": kind,
            "TZJE": int(amount),
            "TZYY": reason,
            "CZYH": operator,
            "ZDBH": bill_no,
            "SQSJ": render.ts(local),
        }
    )
    return ok(
        "SubmitFeeAdjustment",
        leaf("SQDH", request_no),
        leaf("HH", account.account_no),
        leaf("SQZT", "01"),
        leaf("SQSJ", render.ts(local)),
    )


def get_meter(ctx: Context, request: Element) -> El:
    account = _account(ctx, required(request, "HH"))
    return ok("GetMeter", render.meter(ctx.world, account))


def get_meter_reads(ctx: Context, request: Element) -> El:
    """Newest first; ZQS limits to the latest N reads."""
    account = _account(ctx, required(request, "HH"))
    reads = list(reversed(ctx.world.history(account.account_no).reads))[: _count(request, "ZQS")]
    rows = [render.meter_read(r) for r in reads]
    return ok("GetMeterReads", leaf("HH", account.account_no), leaf("JLS", len(rows)), node("CBLB", *rows))


REVENUE_OPS: dict[str, Operation] = {
    "QueryAccountsByPhone": Operation(query_by_phone),
    "QueryAccounts": Operation(query_accounts),
    "GetAccounts": Operation(get_accounts, batch=lambda request: len(_batch_numbers(request))),
    "GetBills": Operation(get_bills),
    "GetPayments": Operation(get_payments),
    "GetDirectDebit": Operation(get_direct_debit),
    "SubmitFeeAdjustment": Operation(submit_fee_adjustment),
}
METER_OPS: dict[str, Operation] = {
    "GetMeter": Operation(get_meter),
    "GetMeterReads": Operation(get_meter_reads),
}
