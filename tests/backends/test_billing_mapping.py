"""营收 rows to domain records, from literal XML: every legacy quirk absorbed, nothing leaking out."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

import defusedxml.ElementTree as SafeET
import pytest

from backends.billing import mapping
from backends.billing.row import Row
from backends.billing.tables import load_tables
from backends.billing.wire import NS
from backends.codes import CodeTables
from domain.enums import (
    AccountStatus,
    BillStatus,
    DirectDebitStatus,
    MeterReadStatus,
    PaymentMethod,
    WaterUseType,
)
from domain.money import Money
from domain.records import TierLine
from infra.errors import BackendProtocolError

ACCOUNT = {
    "HH": "0010000008",
    "HM": "王秀英".ljust(20),
    "KHBH": "KH00000001",
    "DZ": "江城市临江区人民路201号湖畔嘉园1幢1单元601室".ljust(40),
    "HZT": "4",
    "YSXZ": "02",
    "SFFS": "5",
    "LXDH": "0571-86123456",
    "SJHM": "13812345678",
    "ZJLX": "1",
    "ZJHM": "33010619900101123x",
    "YE": "12345",
    "QF": "0",
    "ZNJ": "-5",
    "JTJD": "2",
    "LJYSL": "187",
    "KHRQ": "20190301",
    "SBBH": "SB1912345678",
    "DKBZ": "0",
    "SSQY": "临江区",
}


@pytest.fixture(scope="module")
def tables() -> CodeTables:
    return load_tables()


def row(tag: str, columns: dict[str, str], inner: str = "", op: str = "Test") -> Row:
    cells = "".join(f"<{k}>{v}</{k}>" for k, v in columns.items())
    return Row(SafeET.fromstring(f'<{tag} xmlns="{NS}">{cells}{inner}</{tag}>'), op)


def test_account_row_becomes_a_clean_account(tables: CodeTables) -> None:
    account = mapping.account(row("HHXX", ACCOUNT), tables)
    assert account.account_no == "0010000008" and account.customer_no == "KH00000001"
    assert account.holder_name == "王秀英"
    assert account.address == "江城市临江区人民路201号湖畔嘉园1幢1单元601室"
    assert account.status is AccountStatus.ARREARS_NOTICE
    assert account.use_type is WaterUseType.PUBLIC_INSTITUTION
    assert account.pay_method is PaymentMethod.PREPAID_DEDUCTION
    assert (account.mobile, account.landline) == ("13812345678", "057186123456")
    assert account.id_card == "33010619900101123X"
    assert (account.balance, account.arrears, account.late_fee) == (Money(12345), Money(0), Money(-5))
    assert (account.current_tier, account.year_to_date_m3) == (2, 187)
    assert account.opened_on == date(2019, 3, 1) and account.meter_no == "SB1912345678"
    assert account.direct_debit is False
    assert mapping.account(row("HHXX", {**ACCOUNT, "DKBZ": "1"}), tables).direct_debit is True


@pytest.mark.parametrize("absent", ["", "null", "   ", "NULL"])
def test_blank_and_null_become_none(tables: CodeTables, absent: str) -> None:
    blanks = {k: absent for k in ("DZ", "LXDH", "SJHM", "ZJHM", "JTJD", "LJYSL", "KHRQ", "SBBH")}
    account = mapping.account(row("HHXX", {**ACCOUNT, **blanks}), tables)
    assert account.address is None and account.mobile is None and account.landline is None
    assert account.id_card is None and account.current_tier is None and account.year_to_date_m3 is None
    assert account.opened_on is None and account.meter_no is None


def test_missing_columns_are_none_too(tables: CodeTables) -> None:
    kept = {k: v for k, v in ACCOUNT.items() if k not in ("LXDH", "SJHM", "ZJHM", "ZJLX", "JTJD")}
    account = mapping.account(row("HHXX", kept), tables)
    assert (account.mobile, account.landline, account.id_card, account.current_tier) == (None,) * 4


def test_lost_leading_zeros_are_restored(tables: CodeTables) -> None:
    assert mapping.account(row("HHXX", {**ACCOUNT, "HH": "10000008"}), tables).account_no == "0010000008"


def test_rogue_codes_become_unknown_and_are_logged(
    tables: CodeTables, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="tidegate.codes"):
        account = mapping.account(row("HHXX", {**ACCOUNT, "YSXZ": "05", "HZT": "7"}), tables)
    assert account.use_type is WaterUseType.UNKNOWN and account.status is AccountStatus.UNKNOWN
    raw = {(getattr(r, "table", None), getattr(r, "raw_code", None)) for r in caplog.records}
    assert {("use_type", "05"), ("account_status", "7")} <= raw


@pytest.mark.parametrize(
    ("column", "value", "needle"),
    [
        ("YE", "12.34", "YE"),
        ("QF", "", "QF"),
        ("KHRQ", "2019-03-01", "KHRQ"),
        ("HH", "00A0000008", "HH"),
        ("HM", "null", "HM"),
    ],
)
def test_unreadable_values_name_the_operation_and_column(
    tables: CodeTables, column: str, value: str, needle: str
) -> None:
    with pytest.raises(BackendProtocolError) as err:
        mapping.account(row("HHXX", {**ACCOUNT, column: value}, op="GetAccounts"), tables)
    assert "GetAccounts" in str(err.value) and needle in str(err.value)


BILL = {
    "ZDBH": "ZD2026100000008",
    "ZQ": "202610",
    "CBSJ": "20261022093015",
    "SL": "20",
    "SF": "3800",
    "WSF": "1900",
    "SZYF": "400",
    "JE": "6100",
    "YJJE": "3050",
    "QFJE": "3050",
    "XZZT": "2",
    "KZRQ": "20261024",
    "JFQX": "20261123",
    "JFSJ": "20261101120000",
}
TIERS = (
    "<JTMX><JT><JB>1</JB><SL>12</SL><DJ>190</DJ><JE>2280</JE></JT>"
    "<JT><JB>2</JB><SL>8</SL><DJ>190</DJ><JE>1520</JE></JT></JTMX>"
)


def test_bill_row_with_tiers(tables: CodeTables) -> None:
    bill = mapping.bill(row("ZD", BILL, TIERS), tables)
    assert bill.period == "2026-10" and bill.usage_m3 == 20
    assert bill.read_at == datetime.fromisoformat("2026-10-22T09:30:15+08:00")
    assert bill.read_at.utcoffset() == timedelta(hours=8)
    assert (bill.water, bill.sewage, bill.resource, bill.total) == tuple(map(Money, (3800, 1900, 400, 6100)))
    assert (bill.paid, bill.outstanding) == (Money(3050), Money(3050))
    assert bill.status is BillStatus.PARTIALLY_PAID
    assert (bill.issued_on, bill.due_on) == (date(2026, 10, 24), date(2026, 11, 23))
    assert bill.tiers == (
        TierLine(1, 12, Money(190), Money(2280)),
        TierLine(2, 8, Money(190), Money(1520)),
    )
    unpaid = mapping.bill(row("ZD", {**BILL, "JFSJ": "null", "XZZT": "3"}), tables)
    assert unpaid.paid_at is None and unpaid.tiers == () and unpaid.status is BillStatus.REVERSED


@pytest.mark.parametrize(("period", "ok"), [("202601", True), ("202613", False), ("2026-01", False)])
def test_periods_must_be_yyyymm(tables: CodeTables, period: str, ok: bool) -> None:
    if ok:
        assert mapping.bill(row("ZD", {**BILL, "ZQ": period}), tables).period == "2026-01"
    else:
        with pytest.raises(BackendProtocolError, match="ZQ"):
            mapping.bill(row("ZD", {**BILL, "ZQ": period}), tables)


def test_bad_timestamp_is_a_protocol_error(tables: CodeTables) -> None:
    with pytest.raises(BackendProtocolError, match="CBSJ"):
        mapping.bill(row("ZD", {**BILL, "CBSJ": "2026-10-22 09:30"}, op="GetBills"), tables)


def test_payments_newest_first_by_time(tables: CodeTables) -> None:
    def jf(serial: str, at: str, method: str) -> str:
        return f"<JF><LSH>{serial}</LSH><JFSJ>{at}</JFSJ><JE>100</JE><SFFS>{method}</SFFS><ZDBH></ZDBH></JF>"

    inner = "<JFLB>" + jf("A", "20261001100000", "1") + jf("B", "20261020100000", "9") + "</JFLB>"
    found = mapping.payments(row("GetPaymentsResponse", {}, inner), tables)
    assert [p.serial for p in found] == ["B", "A"]
    assert found[0].method is PaymentMethod.UNKNOWN and found[1].method is PaymentMethod.COUNTER
    assert found[1].bill_no is None and found[1].amount == Money(100)


def test_direct_debit_and_its_absence(tables: CodeTables) -> None:
    dd = {"YHDM": "0102", "YHMC": "中国工商银行", "YHZH": "6222000011112222333", "ZHMC": "王秀英".ljust(20)}
    inner = (
        "<DKXX>"
        + "".join(f"<{k}>{v}</{k}>" for k, v in dd.items())
        + "<QYZT>0</QYZT><QYRQ>20200105</QYRQ></DKXX>"
    )
    found = mapping.first_direct_debit(row("GetDirectDebitResponse", {"JLS": "1"}, inner), tables)
    assert found is not None and found.holder == "王秀英" and found.status is DirectDebitStatus.CANCELLED
    assert found.signed_on == date(2020, 1, 5)
    assert mapping.first_direct_debit(row("GetDirectDebitResponse", {"JLS": "0"}), tables) is None


def test_meter_and_reads(tables: CodeTables) -> None:
    meter_row = row(
        "GetMeterResponse", {}, "<SBXX><SBBH>SB19001</SBBH><KJ>null</KJ><AZRQ>20190301</AZRQ></SBXX>"
    )
    reads = row(
        "GetMeterReadsResponse",
        {},
        "<CBLB><CB><CBRQ>20261020</CBRQ><SQDS>100</SQDS><BQDS>100</BQDS><SL>0</SL><CBZT>03</CBZT>"
        "<CBY>CB007   </CBY></CB><CB><CBRQ>20261120</CBRQ><SQDS></SQDS><BQDS>0</BQDS><SL>5</SL>"
        "<CBZT>07</CBZT><CBY></CBY></CB></CBLB>",
    )
    meter = mapping.meter(meter_row, reads, tables)
    assert meter.meter_no == "SB19001" and meter.size_mm is None and meter.installed_on == date(2019, 3, 1)
    newest, older = meter.reads
    assert newest.read_at == datetime.fromisoformat("2026-11-20T00:00:00+08:00")
    assert newest.status is MeterReadStatus.METER_REPLACED and newest.previous_reading is None
    assert newest.reader is None and older.reader == "CB007" and older.status is MeterReadStatus.NO_ACCESS
    with pytest.raises(BackendProtocolError, match="SBXX"):
        mapping.meter(row("GetMeterResponse", {}), None, tables)
