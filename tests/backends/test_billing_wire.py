"""SOAP plumbing from literal bytes: decoding by declaration, safe parsing, faults, envelopes."""

from __future__ import annotations

import codecs

import defusedxml.ElementTree as SafeET
import pytest

from backends.billing import wire

ENV = wire.SOAP_ENV
NAME = "欧阳娜娜"


def envelope(inner: str, encoding: str = "utf-8", declare: bool = True) -> bytes:
    decl = f'<?xml version="1.0" encoding="{encoding}"?>' if declare else ""
    text = f'{decl}<soap:Envelope xmlns:soap="{ENV}"><soap:Body>{inner}</soap:Body></soap:Envelope>'
    return text.encode(encoding)


def meter_answer(encoding: str = "GBK", declare: bool = True) -> bytes:
    row = f"<SBXX><HM>{NAME}    </HM></SBXX>"
    inner = f'<GetMeterResponse xmlns="{wire.NS}"><FHDM>0</FHDM>{row}</GetMeterResponse>'
    return envelope(inner, encoding, declare)


@pytest.mark.parametrize("content_type", [None, "text/xml; charset=utf-8", "text/xml"])
def test_gbk_is_decoded_by_its_declaration(content_type: str | None) -> None:
    body = meter_answer()
    assert NAME.encode("gbk") in body and NAME.encode() not in body
    answer = wire.response(wire.parse(body, content_type), "GetMeter")
    assert answer.rows("SBXX")[0].text("HM") == NAME and wire.status_fault(answer) is None


def test_without_a_declaration_the_content_type_charset_decides() -> None:
    body = meter_answer(declare=False)
    root = wire.parse(body, 'text/xml; charset="GBK"')
    assert wire.response(root, "GetMeter").rows("SBXX")[0].text("HM") == NAME
    with pytest.raises(wire.WireError, match="utf-8"):
        wire.parse(body, None)


def test_gb2312_declared_but_gbk_sent() -> None:
    name = "王喆"  # 喆 is in GBK but not in GB2312
    body = meter_answer().replace(b"GBK", b"GB2312").replace(NAME.encode("gbk"), name.encode("gbk"))
    assert wire.response(wire.parse(body, None), "GetMeter").rows("SBXX")[0].text("HM") == name


def test_utf8_bom_is_tolerated() -> None:
    body = codecs.BOM_UTF8 + meter_answer("utf-8")
    assert wire.response(wire.parse(body, None), "GetMeter").tag == "GetMeterResponse"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (meter_answer()[:-40], "malformed"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "forbidden"),
        (b'<?xml version="1.0" encoding="x-klingon"?><a/>', "unknown encoding"),
        (b"   ", "empty"),
        (b"<Envelope2/>", "not a SOAP Envelope"),
    ],
)
def test_unreadable_bodies_say_why(body: bytes, reason: str) -> None:
    with pytest.raises(wire.WireError, match=reason):
        wire.parse(body, None)


def test_fault_detail_is_extracted() -> None:
    codes = "<ErrorCode>1001</ErrorCode><ErrorInfo>户号不存在: 1</ErrorInfo>"
    detail = f'<YSFault xmlns="{wire.NS}">{codes}</YSFault>'
    body = envelope(
        f"<soap:Fault><faultcode>soap:Client</faultcode><faultstring>户号不存在</faultstring>"
        f"<detail>{detail}</detail></soap:Fault>"
    )
    fault = wire.find_fault(wire.parse(body, None))
    assert fault == wire.Fault("1001", "soap:Client", "户号不存在", "户号不存在: 1")
    assert wire.find_fault(wire.parse(meter_answer(), None)) is None


def test_wrong_response_element_and_missing_return_code() -> None:
    root = wire.parse(meter_answer(), None)
    with pytest.raises(wire.WireError, match="GetBillsResponse"):
        wire.response(root, "GetBills")
    bare = wire.parse(envelope(f'<GetMeterResponse xmlns="{wire.NS}"/>'), None)
    with pytest.raises(wire.WireError, match="FHDM"):
        wire.status_fault(wire.response(bare, "GetMeter"))


def test_request_envelope_escapes_and_declares_the_action() -> None:
    body = wire.request_body("GetBills", wire.leaf("HH", "<&>"), wire.wrap("HHLB", wire.leaf("HH", "1")))
    root = SafeET.fromstring(body)
    op = root[0][0]
    assert op.tag == f"{{{wire.NS}}}GetBills"
    assert [e.text for e in op.iter(f"{{{wire.NS}}}HH")] == ["<&>", "1"]
    assert wire.soap_action("GetBills") == f'"{wire.NS}/GetBills"'
