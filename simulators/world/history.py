"""Histories derived on demand: bills, payments, meter reads, direct debits, contacts.

Deriving them per account from (seed, account number) keeps start-up fast and the
data identical across restarts, whichever records a test happens to ask for.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from simulators.world.model import Account, Customer

# Annual residential tiers (m3) and prices in fen per m3.
TIERS = ((0, 180), (180, 260), (260, None))
RESIDENTIAL_WATER_FEN = (190, 285, 570)
SEWAGE_FEN = {"01": 95, "02": 140, "03": 140, "04": 140}
RESOURCE_FEN = {"01": 20, "02": 30, "03": 30, "04": 30}
FLAT_WATER_FEN = {"02": 345, "03": 345, "04": 2000}

READ_STATUS = {
    "00": "正常",
    "01": "估抄",
    "02": "表坏",
    "03": "门闭",
    "04": "零用量",
    "05": "倒装",
    "06": "表停",
    "07": "换表",
}
SETTLE_STATUS = {"0": "未销账", "1": "已销账", "2": "部分销账", "3": "已冲正"}
BANKS = (
    ("0102", "中国工商银行"),
    ("0103", "中国农业银行"),
    ("0104", "中国银行"),
    ("0105", "中国建设银行"),
    ("0301", "交通银行"),
    ("3133", "江城银行"),
)


@dataclass(frozen=True, slots=True)
class TierLine:
    tier: int
    volume_m3: int
    price_fen: int
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Bill:
    bill_no: str
    period: str  # yyyyMM
    read_at: datetime  # local time, Asia/Shanghai
    issued: date
    due: date
    usage_m3: int
    tiers: tuple[TierLine, ...]
    water_fen: int
    sewage_fen: int
    resource_fen: int
    paid_fen: int
    settle_status: str

    @property
    def total_fen(self) -> int:
        return self.water_fen + self.sewage_fen + self.resource_fen

    @property
    def unpaid_fen(self) -> int:
        return 0 if self.settle_status == "3" else max(self.total_fen - self.paid_fen, 0)


@dataclass(frozen=True, slots=True)
class Payment:
    serial: str
    paid_at: datetime
    amount_fen: int
    method: str
    bill_no: str


@dataclass(frozen=True, slots=True)
class MeterRead:
    read_at: datetime
    reading: int
    usage_m3: int
    status: str
    reader: str


@dataclass(frozen=True, slots=True)
class DirectDebit:
    bank_code: str
    bank_name: str
    bank_account: str
    holder: str
    status: str  # "1" signed, "0" cancelled
    signed: date


@dataclass(frozen=True, slots=True)
class AccountHistory:
    bills: tuple[Bill, ...]  # oldest first
    payments: tuple[Payment, ...]
    reads: tuple[MeterRead, ...]
    balance_fen: int
    direct_debit: DirectDebit | None
    ytd_usage_m3: int
    current_tier: int

    def arrears_fen(self) -> int:
        return sum(b.unpaid_fen for b in self.bills)

    def late_fee_fen(self, on: date, daily_rate: float, cap_ratio: float) -> int:
        """Late fees accrue daily on each overdue bill's unpaid amount, capped per bill."""
        total = 0
        for bill in self.bills:
            days = (on - bill.due).days
            if bill.unpaid_fen and days > 0:
                total += min(round(bill.unpaid_fen * daily_rate * days), round(bill.unpaid_fen * cap_ratio))
        return total


def _split_tiers(used_before: int, usage: int, use_type: str) -> tuple[TierLine, ...]:
    if use_type != "01":
        price = FLAT_WATER_FEN.get(use_type, FLAT_WATER_FEN["03"])
        return (TierLine(1, usage, price, usage * price),)
    lines: list[TierLine] = []
    for n, ((lo, hi), price) in enumerate(zip(TIERS, RESIDENTIAL_WATER_FEN, strict=True), start=1):
        start = max(used_before, lo)
        end = used_before + usage if hi is None else min(used_before + usage, hi)
        if end > start:
            lines.append(TierLine(n, end - start, price, (end - start) * price))
    return tuple(lines)


def _tier_of(ytd: int) -> int:
    return 1 if ytd <= 180 else 2 if ytd <= 260 else 3


def account_history(seed: int, account: Account, customer: Customer, as_of: date) -> AccountHistory:
    rng = random.Random(f"{seed}/billing/{account.account_no}")
    residential = account.use_type == "01"
    mean = rng.uniform(6, 22) if residential else rng.uniform(40, 260)
    months = _bill_months(rng, account, as_of)
    reading = rng.randrange(100, 4000)
    ytd_by_year: dict[int, int] = {}
    bills: list[Bill] = []
    reads: list[MeterRead] = []
    payments: list[Payment] = []
    unpaid_tail = _unpaid_tail(rng, account)
    for i, (year, month) in enumerate(months):
        read_at = datetime(
            year, month, rng.randint(18, 27), rng.randint(8, 17), rng.randrange(60), rng.randrange(60)
        )
        status, usage = _read_status(rng, account, mean, i, len(months))
        if status == "07":
            reading = 0
        reading += usage
        reads.append(MeterRead(read_at, reading, usage, status, f"CB{rng.randint(1, 60):03d}"))
        used = ytd_by_year.get(year, 0)
        ytd_by_year[year] = used + usage
        tiers = _split_tiers(used, usage, account.use_type)
        sewage = usage * SEWAGE_FEN.get(account.use_type, 140)
        resource = usage * RESOURCE_FEN.get(account.use_type, 30)
        issued = read_at.date() + timedelta(days=2)
        due = issued + timedelta(days=30)
        bill_no = f"ZD{year}{month:02d}{account.account_no[-7:]}"
        total = sum(t.amount_fen for t in tiers) + sewage + resource
        unpaid = i >= len(months) - unpaid_tail
        paid, settle = (0, "0") if unpaid else (total, "1")
        if not unpaid and total and rng.random() < 0.02:
            paid, settle = total // 2, "2"
        if not unpaid and rng.random() < 0.003:
            settle = "3"
        if paid:
            paid_at = datetime.combine(issued, datetime.min.time()) + timedelta(
                days=rng.randint(0, 25), hours=rng.randint(8, 20), minutes=rng.randrange(60)
            )
            method = account.pay_method
            payments.append(
                Payment(f"JF{paid_at:%Y%m%d}{rng.randrange(10**8):08d}", paid_at, paid, method, bill_no)
            )
        bills.append(
            Bill(
                bill_no,
                f"{year}{month:02d}",
                read_at,
                issued,
                due,
                usage,
                tiers,
                sum(t.amount_fen for t in tiers),
                sewage,
                resource,
                paid,
                settle,
            )
        )
    balance = (
        rng.randrange(5_000, 50_000)
        if account.pay_method == "5"
        else (rng.randrange(0, 2_000) if rng.random() < 0.3 else 0)
    )
    ytd = ytd_by_year.get(as_of.year, 0)
    return AccountHistory(
        tuple(bills),
        tuple(payments),
        tuple(reads),
        balance,
        _direct_debit(rng, account, customer),
        ytd,
        _tier_of(ytd),
    )


def _bill_months(rng: random.Random, account: Account, as_of: date) -> list[tuple[int, int]]:
    """Reading months from the account's opening (at most 24) up to last month."""
    end = (as_of.year, as_of.month - 1) if as_of.month > 1 else (as_of.year - 1, 12)
    if account.status == "3":  # closed: bills stop some months ago
        back = rng.randint(4, 16)
        idx = end[0] * 12 + end[1] - 1 - back
        end = (idx // 12, idx % 12 + 1)
    start_idx = max(end[0] * 12 + end[1] - 1 - 23, account.opened.year * 12 + account.opened.month)
    end_idx = end[0] * 12 + end[1] - 1
    return [(i // 12, i % 12 + 1) for i in range(start_idx, end_idx + 1)]


def _unpaid_tail(rng: random.Random, account: Account) -> int:
    if account.status == "4":
        return rng.randint(2, 5)
    roll = rng.random()
    return 1 if roll < 0.08 else 2 if roll < 0.11 else 0


def _read_status(rng: random.Random, account: Account, mean: float, i: int, n: int) -> tuple[str, int]:
    if account.status == "2" and i >= n - 3:
        return "04", 0
    roll = rng.random()
    usage = max(0, round(rng.gauss(mean, mean * 0.3)))
    if roll < 0.03:
        return "01", round(mean)
    if roll < 0.06:
        return "03", round(mean)
    if roll < 0.07:
        return "02", round(mean)
    if roll < 0.075:
        return "06", 0
    if roll < 0.08:
        return "07", usage
    if roll < 0.081:
        return "05", usage
    return ("04" if usage == 0 else "00"), usage


def _direct_debit(rng: random.Random, account: Account, customer: Customer) -> DirectDebit | None:
    if not account.direct_debit and rng.random() > 0.02:
        return None
    code, bank = rng.choice(BANKS)
    number = f"62{rng.choice(('22', '28', '17', '15'))}{rng.randrange(10**15):015d}"
    signed = account.opened + timedelta(days=rng.randrange(0, 400))
    return DirectDebit(code, bank, number, customer.name, "1" if account.direct_debit else "0", signed)


# --- CRM ---------------------------------------------------------------------------

CHANNELS = {"TEL": "电话", "WX": "微信", "GT": "营业厅柜台", "APP": "掌上营业厅", "12345": "12345热线转办"}
INTERACTION_TYPES = {"ZX": "咨询", "TS": "投诉", "BX": "报修", "JF": "缴费", "BZ": "备注", "ZWYY": "账务异议"}
OUTCOMES = {"YJJ": "已解决", "ZJ": "已转交", "DHF": "待回访", "CLZ": "处理中"}
_SUMMARIES = {
    "ZX": ("咨询阶梯水价计费规则", "咨询停水恢复时间", "咨询过户手续", "咨询水表更换流程"),
    "TS": ("投诉抢修人员未按时到场", "投诉水费异常偏高", "投诉停水未提前通知"),
    "BX": ("报修楼道水管漏水", "报修水表井盖破损", "报修家中水压偏低", "报修自来水发黄"),
    "JF": ("办理银行代扣签约", "查询欠费并缴纳", "申请电子发票"),
    "BZ": ("客户要求工作日上午联系", "客户为独居老人,需上门服务"),
    "ZWYY": ("对上月账单水量有异议,申请复核", "认为滞纳金计算有误"),
}


@dataclass(frozen=True, slots=True)
class Interaction:
    interaction_id: str
    at: int  # epoch seconds
    channel: str
    kind: str
    outcome: str
    agent_id: str
    summary: str
    duration_s: int
    account_no: str | None


def interactions(
    seed: int, customer: Customer, account_nos: list[str], as_of_midnight: int
) -> list[Interaction]:
    """A customer's contact history, newest first."""
    rng = random.Random(f"{seed}/crm/{customer.customer_no}")
    count = min(int(rng.expovariate(1 / 3.0)), 15)
    out: list[Interaction] = []
    for k in range(count):
        at = as_of_midnight - rng.randrange(3600, 720 * 86400)
        kind = rng.choices(list(INTERACTION_TYPES), weights=(35, 8, 25, 20, 5, 7))[0]
        channel = rng.choices(list(CHANNELS), weights=(55, 20, 10, 10, 5))[0]
        outcome = "YJJ" if rng.random() < 0.8 else rng.choice(("ZJ", "DHF", "CLZ"))
        out.append(
            Interaction(
                interaction_id=f"IX{customer.customer_no:08d}{k:02d}",
                at=at,
                channel=channel,
                kind=kind,
                outcome=outcome,
                agent_id=f"A{rng.randint(1001, 1040)}",
                summary=rng.choice(_SUMMARIES[kind]),
                duration_s=rng.randint(40, 900) if channel in ("TEL", "12345") else 0,
                account_no=rng.choice(account_nos) if account_nos and rng.random() < 0.7 else None,
            )
        )
    out.sort(key=lambda i: i.at, reverse=True)
    return out
