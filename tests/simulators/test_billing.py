"""The billing (营收) SOAP simulator, exercised as a real process over real HTTP."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as SafeET
import httpx
import pytest

from simulators.billing.ops import in_settlement
from simulators.kit.options import SimOptions
from simulators.world import World, build_world, phone_key
from simulators.world.history import READ_STATUS
from simulators.world.people import ROGUE_USE_TYPE
from simulators.world.workorders import SHANGHAI
from tests.support.processes import TEST_AS_OF, TEST_CUSTOMERS, TEST_SEED, SimProcess, start_simulator
from tests.support.soap import (
    ENV,
    METER,
    NS,
    REVENUE,
    STAMP,
    XML_UTF8,
    call,
    envelope,
    fault_code,
    find,
    hh,
    parse,
    post,
    text,
)


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(TEST_SEED, TEST_CUSTOMERS, date.fromisoformat(TEST_AS_OF))


@pytest.fixture
def billing(clean_sims: dict[str, SimProcess]) -> Iterator[str]:
    yield clean_sims["billing"].url


def _faults(base: str, **knobs: object) -> None:
    httpx.patch(f"{base}/_sim/faults", json=knobs).raise_for_status()


def _stats(base: str) -> dict[str, Any]:
    stats: dict[str, Any] = httpx.get(f"{base}/_sim/stats").json()
    return stats


def test_same_seed_same_bytes_across_restarts() -> None:
    small = build_world(TEST_SEED, 150, date.fromisoformat(TEST_AS_OF))
    numbers = [a.account_no for a in small.accounts[:5]]
    phone = next(iter(small.customers_by_phone))
    requests = [
        (REVENUE, envelope("GetAccounts", hh(*numbers))),
        (REVENUE, envelope("GetBills", f"<ys:HH>{numbers[1]}</ys:HH>")),
        (REVENUE, envelope("GetPayments", f"<ys:HH>{numbers[2]}</ys:HH>")),
        (REVENUE, envelope("QueryAccountsByPhone", f"<ys:DHHM>{phone}</ys:DHHM>")),
        (METER, envelope("GetMeterReads", f"<ys:HH>{numbers[3]}</ys:HH>")),
    ]
    answers: list[list[bytes]] = []
    for _ in range(2):
        sim = start_simulator("billing", customers=150)
        try:
            responses = [post(sim.url, body, path) for path, body in requests]
            assert [r.status_code for r in responses] == [200] * len(requests)
            answers.append([r.content for r in responses])
        finally:
            sim.stop()
    assert answers[0] == answers[1]
    assert [text(a, "HH") for a in find(SafeET.fromstring(answers[0][0]), "HHXX")] == numbers


def test_query_by_phone_finds_every_account_on_a_shared_phone(billing: str, world: World) -> None:
    phone, owners = next((p, c) for p, c in sorted(world.customers_by_phone.items()) if len(c) > 1)
    expected = {a.account_no for c in owners for a in world.accounts_of[c]}
    assert len(expected) >= 2
    dashed = f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
    root = parse(call(billing, "QueryAccountsByPhone", f"<ys:DHHM>{dashed}</ys:DHHM>"))
    assert {text(r, "HH") for r in find(root, "HHXX")} == expected
    assert text(root, "JLS") == str(len(expected))
    landline = next(c.landline for c in world.customers if c.landline)
    root = parse(call(billing, "QueryAccountsByPhone", f"<ys:DHHM>{landline}</ys:DHHM>"))
    owners = world.customers_by_phone[phone_key(landline)]
    expected = {a.account_no for c in owners for a in world.accounts_of[c]}
    assert {text(r, "HH") for r in find(root, "HHXX")} == expected
    assert text(parse(call(billing, "QueryAccountsByPhone", "<ys:DHHM>10000000000</ys:DHHM>")), "JLS") == "0"


def test_account_rows_carry_the_legacy_quirks(billing: str, world: World) -> None:
    accounts = world.accounts[:48] + [a for a in world.accounts if a.use_type == ROGUE_USE_TYPE][:2]
    root = parse(call(billing, "GetAccounts", hh(*(a.account_no for a in accounts))))
    rows = {text(r, "HH"): r for r in find(root, "HHXX")}
    assert list(rows) == [a.account_no for a in accounts]
    options = SimOptions("billing")
    missing: set[str] = set()
    for account in accounts:
        row, customer = rows[account.account_no], world.customer_by_no[account.customer_no]
        history = world.history(account.account_no)
        assert re.fullmatch(r"0\d{9}", text(row, "HH"))
        assert text(row, "KHBH") == f"KH{customer.customer_no:08d}"
        assert text(row, "HM") == customer.name.ljust(20) and text(row, "HM").endswith(" ")
        assert text(row, "DZ") == account.premises.address.ljust(40)
        assert text(row, "YSXZ") == account.use_type and text(row, "HZT") == account.status
        assert text(row, "QF") == str(history.arrears_fen())
        late = history.late_fee_fen(world.as_of, options.late_fee_daily_rate, options.late_fee_cap_ratio)
        assert text(row, "ZNJ") == str(late)
        assert all(re.fullmatch(r"-?\d+", text(row, f)) for f in ("YE", "QF", "ZNJ", "LJYSL"))
        assert datetime.strptime(text(row, "KHRQ"), "%Y%m%d").date() == account.opened
        assert text(row, "ZJHM") == (customer.id_card or text(row, "ZJHM"))
        absent = {"LXDH": customer.landline, "SJHM": customer.mobile, "ZJHM": customer.id_card}
        missing |= {text(row, field) for field, value in absent.items() if value is None}
    assert missing == {"", "null"}
    assert ROGUE_USE_TYPE in {text(r, "YSXZ") for r in rows.values()}


def test_bills_and_payments_use_fen_strings_and_compact_timestamps(billing: str, world: World) -> None:
    account = next(a for a in world.accounts if a.status == "4")
    history = world.history(account.account_no)
    root = parse(call(billing, "GetBills", f"<ys:HH>{account.account_no}</ys:HH><ys:ZQS>6</ys:ZQS>"))
    bills = find(root, "ZD")
    assert [text(b, "ZDBH") for b in bills] == [b.bill_no for b in reversed(history.bills)][:6]
    for row, bill in zip(bills, reversed(history.bills), strict=False):
        assert datetime.strptime(text(row, "CBSJ"), STAMP) == bill.read_at
        assert re.fullmatch(r"\d{8}", text(row, "JFQX")) and text(row, "ZQ") == bill.period
        parts = sum(int(text(row, f)) for f in ("SF", "WSF", "SZYF"))
        assert text(row, "JE") == str(bill.total_fen) == str(parts)
        assert sum(int(text(t, "JE")) for t in find(row, "JT")) == bill.water_fen
        if bill.paid_fen == 0:
            assert text(row, "JFSJ") in ("", "null")
    assert any(text(b, "QFJE") != "0" for b in bills)
    payer = next(a for a in world.accounts if world.history(a.account_no).payments)
    root = parse(call(billing, "GetPayments", f"<ys:HH>{payer.account_no}</ys:HH>"))
    newest = world.history(payer.account_no).payments[-1]
    assert text(root, "LSH") == newest.serial and text(root, "JFSJ") == newest.paid_at.strftime(STAMP)
    debtor = next(a for a in world.accounts if world.history(a.account_no).direct_debit)
    dd = world.history(debtor.account_no).direct_debit
    assert dd is not None
    root = parse(call(billing, "GetDirectDebit", f"<ys:HH>{debtor.account_no}</ys:HH>"))
    assert text(root, "YHZH") == dd.bank_account and text(root, "ZHMC") == dd.holder.ljust(20)


def test_meter_service_answers_in_gbk(billing: str, world: World) -> None:
    account = world.accounts[0]
    name = world.customer_by_no[account.customer_no].name
    resp = call(billing, "GetMeter", f"<ys:HH>{account.account_no}</ys:HH>", path=METER)
    assert resp.status_code == 200 and resp.headers["content-type"] == "text/xml; charset=GBK"
    assert resp.content.startswith(b'<?xml version="1.0" encoding="GBK"?>')
    assert name.encode("gbk") in resp.content and name.encode("utf-8") not in resp.content
    with pytest.raises(UnicodeDecodeError):
        resp.content.decode("utf-8")
    root = parse(resp)
    assert text(root, "HM").rstrip() == name and text(root, "SBBH") == account.meter_no
    body = envelope("GetMeterReads", f"<ys:HH>{account.account_no}</ys:HH><ys:CZY>张三</ys:CZY>", "GBK")
    resp = post(billing, body, METER, "GBK")
    reads = find(parse(resp), "CB")
    assert len(reads) == len(world.history(account.account_no).reads)
    assert {text(r, "CBZT") for r in reads} <= set(READ_STATUS)
    assert fault_code(call(billing, "GetMeter", "<ys:HH>0000000001</ys:HH>", path=METER)) == "1001"


BOMB = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]>'
    f'<soap:Envelope xmlns:soap="{ENV}"><soap:Body><GetBills xmlns="{NS}"><HH>&lol3;</HH></GetBills>'
    "</soap:Body></soap:Envelope>"
)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (envelope("GetBills", "<ys:HH>0000000001</ys:HH>"), "1001"),
        (envelope("GetDirectDebit", "<ys:HH>0000000001</ys:HH>"), "1001"),
        (envelope("GetBills", "<ys:HH>12345</ys:HH>"), "1002"),
        (envelope("GetBills", ""), "1002"),
        (envelope("GetAccounts", hh(*(f"{n:010d}" for n in range(51)))), "1002"),
        (envelope("NoSuchOperation"), "1002"),
        (b"<soap:Envelope><soap:Body>", "1002"),
        (b"not xml at all", "1002"),
        (BOMB.encode(), "1002"),
        (b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', "1002"),
        (envelope("GetBills").replace(ENV.encode(), b"http://www.w3.org/2003/05/soap-envelope"), "1002"),
    ],
)
def test_bad_requests_answer_soap_faults(billing: str, body: bytes, code: str) -> None:
    resp = post(billing, body)
    assert resp.headers["content-type"] == "text/xml; charset=utf-8"
    assert fault_code(resp) == code
    assert re.search(r"[\u4e00-\u9fff]", text(parse(resp), "faultstring"))
    assert b"Traceback" not in resp.content


def test_get_accounts_batch_sizes_reach_the_stats(billing: str, world: World) -> None:
    numbers = [a.account_no for a in world.accounts[:60]]
    assert call(billing, "GetAccounts", hh(*numbers[:3])).status_code == 200
    assert call(billing, "GetAccounts", hh(*numbers[:50])).status_code == 200
    assert fault_code(call(billing, "GetAccounts", hh(*numbers[:51]))) == "1002"
    root = parse(call(billing, "GetAccounts", hh(numbers[0], "0000000001", numbers[0])))
    assert [text(r, "HH") for r in find(root, "HHXX")] == [numbers[0]]
    assert text(find(root, "WZDHHLB")[0], "HH") == "0000000001"
    op = _stats(billing)["operations"]["GetAccounts"]
    assert op["batch_sizes"] == [3, 50, 51, 3] and op["errors"] == 1


def test_fee_adjustment_is_refused_while_writes_are_frozen(billing: str, world: World) -> None:
    body = (
        f"<ys:HH>{world.accounts[0].account_no}</ys:HH><ys:TZLX>01</ys:TZLX><ys:TZJE>-500</ys:TZJE>"
        "<ys:TZYY>滞纳金减免</ys:TZYY><ys:CZYH>A1001</ys:CZYH>"
    )
    _faults(billing, settlement_window=False)  # whatever the real clock says
    resp = call(billing, "SubmitFeeAdjustment", body)
    assert resp.status_code == 200 and re.fullmatch(r"TZ\d{14}", text(parse(resp), "SQDH"))
    _faults(billing, writes_frozen=True)
    resp = call(billing, "SubmitFeeAdjustment", body)
    assert fault_code(resp) == "2001" and text(parse(resp), "faultcode") == "soap:Server"


async def test_pool_queues_then_refuses_with_9999(billing: str, world: World) -> None:
    _faults(billing, latency_scale=1.0, pool_size=20, pool_timeout_ms=500)
    one = envelope("GetAccounts", hh(world.accounts[0].account_no))
    limits = httpx.Limits(max_connections=150)
    async with httpx.AsyncClient(base_url=billing, timeout=30, limits=limits, headers=XML_UTF8) as client:
        for _ in range(7):  # a median of several: one lone call's long tail must not decide
            assert (await client.post(REVENUE, content=one)).status_code == 200
        lone = (await client.get("/_sim/stats")).json()["operations"]["GetAccounts"]["latency_ms"]["p50"]
        (await client.post("/_sim/stats/reset")).raise_for_status()
        # Six pools' worth at once: whatever the first ones take, the last ones wait more than two
        # service times (~400 ms) plus the 500 ms the pool queues for, even when this client, on a busy
        # machine, takes a while to send them all (60 once left none refused in a parallel run).
        burst = await asyncio.gather(*(client.post(REVENUE, content=one) for _ in range(120)))
        stats = (await client.get("/_sim/stats")).json()
    refused = [r for r in burst if r.status_code == 500]
    assert {fault_code(r) for r in refused} == {"9999"}
    assert len(refused) >= 1 and len(burst) - len(refused) >= 20
    assert stats["peak_concurrency"] == 20
    assert stats["peak_in_flight"] > 20
    assert stats["errors_by_kind"] == {"pool_exhausted": len(refused)}
    assert stats["operations"]["GetAccounts"]["latency_ms"]["p50"] > lone


def test_injected_errors_and_garbled_bodies(billing: str, world: World) -> None:
    body = f"<ys:HH>{world.accounts[0].account_no}</ys:HH>"
    _faults(billing, error_rate=1.0)
    resp = call(billing, "GetBills", body)
    assert fault_code(resp) == "9999" and text(parse(resp), "faultcode") == "soap:Server"
    _faults(billing, error_rate=0.0, timeout_rate=1.0, hang_ms=50)
    assert fault_code(call(billing, "GetBills", body)) == "9999"
    _faults(billing, timeout_rate=0.0, garble_rate=1.0)
    resp = call(billing, "GetBills", body)
    assert resp.content.startswith(b"<?xml")
    with pytest.raises(ParseError):
        parse(resp)
    kinds = _stats(billing)["errors_by_kind"]
    assert kinds == {"injected_error": 1, "timeout": 1, "garbled": 1}


def test_wsdl_is_served_without_hostnames(billing: str) -> None:
    wanted = {REVENUE: {"GetAccounts", "SubmitFeeAdjustment"}, METER: {"GetMeter", "GetMeterReads"}}
    for path, ops in wanted.items():
        resp = httpx.get(f"{billing}{path}?wsdl")
        assert resp.status_code == 200
        root = parse(resp)
        assert ops <= {e.get("name") for e in find(root, "operation")}
        assert [e.get("location") for e in find(root, "address")] == [path]
        assert b"127.0.0.1" not in resp.content and b"localhost" not in resp.content


def test_settlement_window_is_23_30_to_00_30_shanghai() -> None:
    day = datetime(2026, 11, 26, tzinfo=SHANGHAI)
    assert in_settlement(day.replace(hour=23, minute=30))
    assert in_settlement(day.replace(hour=0, minute=29))
    assert not in_settlement(day.replace(hour=0, minute=30))
    assert not in_settlement(day.replace(hour=12))
