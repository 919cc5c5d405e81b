"""The billing client over httpx.MockTransport: requests it sends, answers and faults it reads."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine

import defusedxml.ElementTree as SafeET
import httpx
import pytest

from backends.billing.client import BillingClient
from backends.billing.errors import SettlementInProgress
from domain.money import Money
from infra.errors import (
    BackendError,
    BackendProtocolError,
    BackendServerError,
    BackendTimeout,
    InvalidRequest,
    NotFound,
)
from infra.http.config import BackendConfig

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS = "urn:yingshou:revenue:v1"
Handler = Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]
ACCOUNT_ROW = (
    "<HHXX><HH>{no}</HH><HM>张伟                  </HM><KHBH>KH00000001</KHBH><DZ>人民路1号</DZ>"
    "<HZT>1</HZT><YSXZ>01</YSXZ><SFFS>4</SFFS><LXDH>null</LXDH><SJHM>13812345678</SJHM><ZJLX></ZJLX>"
    "<ZJHM></ZJHM><YE>0</YE><QF>4500</QF><ZNJ>27</ZNJ><JTJD>1</JTJD><LJYSL>96</LJYSL><KHRQ>20200101</KHRQ>"
    "<SBBH>SB2000000001</SBBH><DKBZ>0</DKBZ><SSQY>临江区</SSQY></HHXX>"
)


def answer(op: str, inner: str = "", encoding: str = "utf-8", status: int = 200) -> httpx.Response:
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?><soap:Envelope xmlns:soap="{ENV}"><soap:Body>'
        f'<{op}Response xmlns="{NS}"><FHDM>0</FHDM><FHXX>成功</FHXX>{inner}</{op}Response>'
        "</soap:Body></soap:Envelope>"
    )
    headers = {"Content-Type": f"text/xml; charset={encoding}"}
    return httpx.Response(status, content=text.encode(encoding), headers=headers)


def fault(code: str, info: str, faultcode: str = "soap:Client") -> httpx.Response:
    text = (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{ENV}"><soap:Body><soap:Fault>'
        f"<faultcode>{faultcode}</faultcode><faultstring>出错了</faultstring><detail>"
        f'<YSFault xmlns="{NS}"><ErrorCode>{code}</ErrorCode><ErrorInfo>{info}</ErrorInfo></YSFault>'
        "</detail></soap:Fault></soap:Body></soap:Envelope>"
    )
    return httpx.Response(500, content=text.encode(), headers={"Content-Type": "text/xml; charset=utf-8"})


def client(handler: Handler, timeout_s: float = 2.0) -> BillingClient:
    config = BackendConfig("billing", "http://billing.test", timeout_s=timeout_s)
    return BillingClient(config, transport=httpx.MockTransport(handler))


def op_of(request: httpx.Request) -> str:
    body = SafeET.fromstring(request.content)[0][0]
    return str(body.tag).rpartition("}")[2]


def texts(request: httpx.Request, name: str) -> list[str]:
    root = SafeET.fromstring(request.content)
    return [e.text or "" for e in root.iter(f"{{{NS}}}{name}")]


def replying(response: httpx.Response, seen: list[httpx.Request] | None = None) -> Handler:
    async def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return response

    return handle


async def test_requests_are_soap_1_1_with_headers_and_action() -> None:
    seen: list[httpx.Request] = []
    async with client(
        replying(answer("GetBills", "<HH>0010000008</HH><JLS>0</JLS><ZDLB/>"), seen)
    ) as billing:
        assert await billing.bills("0010000008", 6) == []
    (request,) = seen
    assert request.url.path == "/ws/RevenueService" and request.method == "POST"
    assert request.headers["content-type"] == "text/xml; charset=utf-8"
    assert request.headers["soapaction"] == f'"{NS}/GetBills"'
    assert op_of(request) == "GetBills"
    assert texts(request, "HH") == ["0010000008"] and texts(request, "ZQS") == ["6"]


async def test_gbk_meter_answers_are_decoded_and_both_calls_run_together() -> None:
    arrived: list[str] = []
    both = asyncio.Event()

    async def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/ws/MeterReadingService"
        arrived.append(op_of(request))
        if len(arrived) == 2:
            both.set()
        await asyncio.wait_for(both.wait(), 1.0)  # only returns if the other call is in flight too
        if op_of(request) == "GetMeter":
            inner = "<SBXX><HH>0010000008</HH><HM>张伟  </HM><SBBH>SB2000000001</SBBH><KJ>15</KJ>"
            return answer("GetMeter", inner + "<AZRQ>20200101</AZRQ></SBXX>", "GBK")
        reads = "<CB><CBRQ>20261020</CBRQ><SQDS>90</SQDS><BQDS>100</BQDS><SL>10</SL><CBZT>00</CBZT>"
        return answer("GetMeterReads", f"<JLS>1</JLS><CBLB>{reads}<CBY>抄表员甲</CBY></CB></CBLB>", "GBK")

    async with client(handle) as billing:
        meter = await billing.meter("0010000008", 3)
    assert sorted(arrived) == ["GetMeter", "GetMeterReads"]
    assert meter.meter_no == "SB2000000001" and meter.size_mm == 15
    assert [(r.reading, r.usage_m3, r.reader) for r in meter.reads] == [(100, 10, "抄表员甲")]


def test_gbk_body_really_is_not_utf8() -> None:
    body = answer("GetMeter", "<SBXX><HM>抄表员甲</HM></SBXX>", "GBK").content
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("1001", NotFound),
        ("1002", InvalidRequest),
        ("2001", SettlementInProgress),
        ("9999", BackendServerError),
        ("4242", BackendServerError),
    ],
)
async def test_faults_map_to_the_error_tree(code: str, error: type[BackendError]) -> None:
    async with client(replying(fault(code, "户号不存在: 0010000008"))) as billing:
        with pytest.raises(error) as err:
            await billing.bills("0010000008", 12)
    assert type(err.value) is error and err.value.vendor_code == code
    assert "GetBills" in str(err.value) and "户号不存在" in str(err.value)


async def test_in_band_return_code_is_a_fault_too() -> None:
    bad = answer("GetBills").content.replace(b"<FHDM>0</FHDM>", b"<FHDM>1001</FHDM>")
    response = httpx.Response(200, content=bad, headers={"Content-Type": "text/xml; charset=utf-8"})
    async with client(replying(response)) as billing:
        with pytest.raises(NotFound):
            await billing.bills("0010000008", 12)


PROTOCOL_FAILURES = {
    "cut off": httpx.Response(200, content=answer("GetBills", "<JLS>0</JLS>").content[:120]),
    "not xml": httpx.Response(200, content=b"<html><body>Service Unavailable"),
    "empty": httpx.Response(200, content=b""),
    "not an envelope": httpx.Response(200, content=b"<?xml version='1.0'?><GetBillsResponse/>"),
    "wrong operation": answer("GetPayments", "<JLS>0</JLS>"),
    "no return code": httpx.Response(200, content=answer("GetBills").content.replace(b"<FHDM>0</FHDM>", b"")),
    "dtd": httpx.Response(200, content=b'<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>'),
    "bad encoding": httpx.Response(200, content='<?xml version="1.0" encoding="utf-8"?>账单'.encode("gbk")),
    "not found page": httpx.Response(404, content=b"Not Found"),
}


@pytest.mark.parametrize("case", sorted(PROTOCOL_FAILURES))
async def test_malformed_answers_are_protocol_errors(case: str) -> None:
    async with client(replying(PROTOCOL_FAILURES[case])) as billing:
        with pytest.raises(BackendProtocolError, match="GetBills"):
            await billing.bills("0010000008", 12)


@pytest.mark.parametrize("body", [b"<html>502 Bad Gateway</html>", b"", answer("GetBills").content[:50]])
async def test_5xx_without_a_readable_fault_is_a_server_error(body: bytes) -> None:
    async with client(replying(httpx.Response(502, content=body))) as billing:
        with pytest.raises(BackendServerError) as err:
            await billing.bills("0010000008", 12)
    assert type(err.value) is BackendServerError and "HTTP 502" in str(err.value)


async def test_slow_answers_time_out() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(1.0)
        return answer("GetBills")

    async with client(slow, timeout_s=0.05) as billing:
        with pytest.raises(BackendTimeout):
            await billing.bills("0010000008", 12)


async def test_batch_of_accounts_is_one_call_and_unknown_ones_are_absent() -> None:
    seen: list[httpx.Request] = []
    rows = ACCOUNT_ROW.format(no="0010000008")
    body = f"<JLS>1</JLS><HHLB>{rows}</HHLB><WZDHHLB><HH>0000000001</HH></WZDHHLB>"
    async with client(replying(answer("GetAccounts", body), seen)) as billing:
        found = await billing.accounts(["0010000008", "0000000001", "0010000008", "10000008"])
        with pytest.raises(ValueError, match="50"):
            await billing.accounts([f"{n:010d}" for n in range(51)])
        assert await billing.accounts(["123"]) == {}
    assert list(found) == ["0010000008"]
    assert found["0010000008"].arrears == Money(4500) and found["0010000008"].landline is None
    (request,) = seen
    assert texts(request, "HH") == ["0010000008", "0000000001"] and texts(request, "HHLB") != []


async def test_accounts_by_phone_fetches_the_full_rows() -> None:
    seen: list[httpx.Request] = []

    async def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if op_of(request) == "QueryAccountsByPhone":
            summary = "<HHXX><HH>0010000017</HH><HM>张伟</HM></HHXX><HHXX><HH>0010000008</HH></HHXX>"
            return answer("QueryAccountsByPhone", f"<JLS>2</JLS><HHLB>{summary}</HHLB>")
        rows = ACCOUNT_ROW.format(no="0010000008") + ACCOUNT_ROW.format(no="0010000017")
        return answer("GetAccounts", f"<JLS>2</JLS><HHLB>{rows}</HHLB><WZDHHLB/>")

    async with client(handle) as billing:
        found = await billing.accounts_by_phone("138-1234-5678")
    assert [a.account_no for a in found] == ["0010000017", "0010000008"]
    assert texts(seen[0], "DHHM") == ["13812345678"] and op_of(seen[1]) == "GetAccounts"


async def test_nobody_on_the_phone_is_an_empty_list_after_one_call() -> None:
    seen: list[httpx.Request] = []
    async with client(replying(answer("QueryAccountsByPhone", "<JLS>0</JLS><HHLB/>"), seen)) as billing:
        assert await billing.accounts_by_phone("10000000000") == []
    assert len(seen) == 1


async def test_malformed_account_numbers_are_refused_without_a_call() -> None:
    seen: list[httpx.Request] = []
    async with client(replying(answer("GetBills"), seen)) as billing:
        for call in (
            billing.bills("10000008", 1),
            billing.payments("00100000AB", 1),
            billing.meter("", 1),
            billing.direct_debit("001000000800"),
        ):
            with pytest.raises(InvalidRequest):
                await call
        with pytest.raises(ValueError):
            await billing.bills("0010000008", 0)
    assert seen == []


async def test_no_direct_debit_is_none() -> None:
    async with client(replying(answer("GetDirectDebit", "<HH>0010000008</HH><JLS>0</JLS>"))) as billing:
        assert await billing.direct_debit("0010000008") is None
