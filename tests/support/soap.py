"""Speak the billing simulator's SOAP 1.1 from tests: envelopes, posting, reading answers."""

from __future__ import annotations

from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
import httpx

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS = "urn:yingshou:revenue:v1"
REVENUE = "/ws/RevenueService"
METER = "/ws/MeterReadingService"
STAMP = "%Y%m%d%H%M%S"
XML_UTF8 = {"Content-Type": "text/xml; charset=utf-8"}


def envelope(op: str, inner: str = "", encoding: str = "utf-8") -> bytes:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?><soap:Envelope xmlns:soap="{ENV}" xmlns:ys="{NS}">'
        f"<soap:Body><ys:{op}>{inner}</ys:{op}></soap:Body></soap:Envelope>"
    ).encode(encoding)


def post(base: str, body: bytes, path: str = REVENUE, charset: str = "utf-8") -> httpx.Response:
    headers = {"Content-Type": f"text/xml; charset={charset}"}
    return httpx.post(base + path, content=body, headers=headers, timeout=10)


def call(base: str, op: str, inner: str = "", path: str = REVENUE) -> httpx.Response:
    return post(base, envelope(op, inner), path)


def hh(*numbers: str) -> str:
    return "<ys:HHLB>" + "".join(f"<ys:HH>{n}</ys:HH>" for n in numbers) + "</ys:HHLB>"


def parse(resp: httpx.Response) -> Element:
    """Expat refuses multi-byte encodings, so GBK answers are decoded first: the only way they parse."""
    gbk = resp.content.startswith(b'<?xml version="1.0" encoding="GBK"?>')
    return SafeET.fromstring(resp.content.decode("gbk") if gbk else resp.content)  # type: ignore[no-any-return]


def find(root: Element, name: str) -> list[Element]:
    return [e for e in root.iter() if e.tag.rpartition("}")[2] == name]


def text(root: Element, name: str) -> str:
    return find(root, name)[0].text or ""


def fault_code(resp: httpx.Response) -> str:
    assert resp.status_code == 500, resp.text
    root = parse(resp)
    assert find(root, "Fault"), resp.text
    return text(root, "ErrorCode")
