"""World records in the revenue system's row format: pinyin columns, fen strings, CHAR padding.

Every quirk here is deliberate and deterministic (the same seed gives the same bytes):
- 户号 are 10-digit strings with leading zeros; amounts are integer 分 as strings;
- timestamps are `yyyyMMddHHmmss` Asia/Shanghai local time without offset, dates `yyyyMMdd`;
- a missing value is `""` or the string `"null"`, chosen per record and column by CRC32,
  the way two generations of the system's DAO layer wrote them;
- HM, DZ, ZHMC and CBY are padded with spaces to a CHAR width (in characters), never cut;
- codes (户状态, 用水性质, 收费方式, 抄见状态, ...) pass through as stored, rogue ones included.
"""

from __future__ import annotations

import zlib
from datetime import date, datetime

from simulators.billing.soap import El, leaf, node
from simulators.kit.options import SimOptions
from simulators.world import World
from simulators.world.history import AccountHistory, Bill, DirectDebit, MeterRead, Payment
from simulators.world.model import Account, Customer

NAME_WIDTH = 20
ADDRESS_WIDTH = 40
READER_WIDTH = 8


def ts(value: datetime) -> str:
    return value.strftime("%Y%m%d%H%M%S")


def day(value: date) -> str:
    return value.strftime("%Y%m%d")


def pad(value: str, width: int) -> str:
    return value.ljust(width)


def absent(key: str) -> str:
    """`""` or `"null"` for a missing value, stable per key across processes (no `hash()`)."""
    return "null" if zlib.crc32(key.encode()) & 1 else ""


def opt(tag: str, value: str | None, key: str) -> El:
    return leaf(tag, value if value else absent(f"{key}/{tag}"))


def customer_no(customer: Customer) -> str:
    return f"KH{customer.customer_no:08d}"


def account_summary(world: World, account: Account) -> El:
    """The short row QueryAccountsByPhone lists: who, where, which state."""
    customer = world.customer_by_no[account.customer_no]
    return node(
        "HHXX",
        leaf("HH", account.account_no),
        leaf("HM", pad(customer.name, NAME_WIDTH)),
        leaf("KHBH", customer_no(customer)),
        leaf("DZ", pad(account.premises.address, ADDRESS_WIDTH)),
        leaf("HZT", account.status),
        leaf("YSXZ", account.use_type),
        leaf("SFFS", account.pay_method),
        opt("SJHM", customer.mobile, account.account_no),
        opt("LXDH", customer.landline, account.account_no),
    )


def account_detail(world: World, options: SimOptions, account: Account) -> El:
    """The full 户 row GetAccounts returns, money and usage as of the world's date."""
    customer = world.customer_by_no[account.customer_no]
    history = world.history(account.account_no)
    late_fee = history.late_fee_fen(world.as_of, options.late_fee_daily_rate, options.late_fee_cap_ratio)
    key = account.account_no
    return node(
        "HHXX",
        leaf("HH", account.account_no),
        leaf("HM", pad(customer.name, NAME_WIDTH)),
        leaf("KHBH", customer_no(customer)),
        leaf("DZ", pad(account.premises.address, ADDRESS_WIDTH)),
        leaf("HZT", account.status),
        leaf("YSXZ", account.use_type),
        leaf("SFFS", account.pay_method),
        opt("LXDH", customer.landline, key),
        opt("SJHM", customer.mobile, key),
        leaf("ZJLX", "1" if customer.id_card else absent(f"{key}/ZJLX")),
        opt("ZJHM", customer.id_card, key),
        leaf("YE", history.balance_fen),
        leaf("QF", history.arrears_fen()),
        leaf("ZNJ", late_fee),
        leaf("JTJD", history.current_tier),
        leaf("LJYSL", history.ytd_usage_m3),
        leaf("KHRQ", day(account.opened)),
        leaf("SBBH", account.meter_no),
        leaf("DKBZ", "1" if account.direct_debit else "0"),
        leaf("SSQY", account.premises.district),
    )


def bill(b: Bill, paid_at: datetime | None, account_no: str) -> El:
    tiers = node(
        "JTMX",
        *(
            node(
                "JT",
                leaf("JB", t.tier),
                leaf("SL", t.volume_m3),
                leaf("DJ", t.price_fen),
                leaf("JE", t.amount_fen),
            )
            for t in b.tiers
        ),
    )
    return node(
        "ZD",
        leaf("ZDBH", b.bill_no),
        leaf("ZQ", b.period),
        leaf("CBSJ", ts(b.read_at)),
        leaf("SL", b.usage_m3),
        leaf("SF", b.water_fen),
        leaf("WSF", b.sewage_fen),
        leaf("SZYF", b.resource_fen),
        leaf("JE", b.total_fen),
        leaf("YJJE", b.paid_fen),
        leaf("QFJE", b.unpaid_fen),
        leaf("XZZT", b.settle_status),
        leaf("KZRQ", day(b.issued)),
        leaf("JFQX", day(b.due)),
        opt("JFSJ", ts(paid_at) if paid_at else None, f"{account_no}/{b.bill_no}"),
        tiers,
    )


def bills(history: AccountHistory, account_no: str, count: int | None) -> list[El]:
    """Newest period first, as the 营收 screen lists them."""
    paid = {p.bill_no: p.paid_at for p in history.payments}
    newest = list(reversed(history.bills))[:count]
    return [bill(b, paid.get(b.bill_no), account_no) for b in newest]


def payment(p: Payment) -> El:
    # Counter and door-to-door collection record the operator; bank and online channels leave it empty.
    operator = f"G{zlib.crc32(p.serial.encode()) % 90 + 10:03d}" if p.method in ("1", "3") else None
    return node(
        "JF",
        leaf("LSH", p.serial),
        leaf("JFSJ", ts(p.paid_at)),
        leaf("JE", p.amount_fen),
        leaf("SFFS", p.method),
        leaf("ZDBH", p.bill_no),
        opt("CZY", operator, p.serial),
    )


def direct_debit(dd: DirectDebit) -> El:
    return node(
        "DKXX",
        leaf("YHDM", dd.bank_code),
        leaf("YHMC", dd.bank_name),
        leaf("YHZH", dd.bank_account),
        leaf("ZHMC", pad(dd.holder, NAME_WIDTH)),
        leaf("QYZT", dd.status),
        leaf("QYRQ", day(dd.signed)),
    )


def meter(world: World, account: Account) -> El:
    """The meter row; its install date is the last 换表 read, else the account's opening."""
    history = world.history(account.account_no)
    swaps = [r.read_at.date() for r in history.reads if r.status == "07"]
    installed = swaps[-1] if swaps else account.opened
    customer = world.customer_by_no[account.customer_no]
    return node(
        "SBXX",
        leaf("HH", account.account_no),
        leaf("HM", pad(customer.name, NAME_WIDTH)),
        leaf("DZ", pad(account.premises.address, ADDRESS_WIDTH)),
        leaf("SBBH", account.meter_no),
        leaf("KJ", account.meter_size_mm),
        leaf("AZRQ", day(installed)),
    )


def meter_read(r: MeterRead) -> El:
    return node(
        "CB",
        leaf("CBRQ", day(r.read_at.date())),
        leaf("SQDS", r.reading - r.usage_m3),
        leaf("BQDS", r.reading),
        leaf("SL", r.usage_m3),
        leaf("CBZT", r.status),
        leaf("CBY", pad(r.reader, READER_WIDTH)),
    )
