"""SOAP 1.1 plumbing: safe envelope parsing, a tiny XML writer, and Fault rendering.

Responses are written by hand rather than through ElementTree so the bytes are
exactly what the legacy stack sends: no `ns0:` prefixes, trailing CHAR padding kept,
and the GBK endpoint's declaration and bytes agreeing.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape, quoteattr

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS = "urn:yingshou:revenue:v1"
MAX_BODY_BYTES = 1_000_000

# Error codes carried in <detail>, as the revenue system's manual lists them.
NOT_FOUND = "1001"
BAD_REQUEST = "1002"
SETTLEMENT = "2001"
BUSY = "9999"

_DECL_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")


class SoapFault(Exception):
    """A business or protocol error, answered as a SOAP 1.1 Fault with HTTP 500."""

    def __init__(self, code: str, message: str, info: str = "", faultcode: str = "soap:Client") -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
        self.info = info or message
        self.faultcode = faultcode


def bad_request(info: str) -> SoapFault:
    return SoapFault(BAD_REQUEST, "参数错误", info)


@dataclass
class El:
    """One element of a response; `text` and `children` are exclusive in practice."""

    tag: str
    text: str = ""
    children: list[El] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)

    def xml(self) -> str:
        attrs = "".join(f" {k}={quoteattr(v)}" for k, v in self.attrs.items())
        inner = escape(self.text) + "".join(c.xml() for c in self.children)
        return f"<{self.tag}{attrs}>{inner}</{self.tag}>"


def leaf(tag: str, value: str | int) -> El:
    return El(tag, str(value))


def node(tag: str, *children: El, **attrs: str) -> El:
    return El(tag, children=list(children), attrs=dict(attrs))


def _local(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return "", tag


def _decode(raw: bytes, charset: str | None) -> str:
    """Decode by the XML declaration, else the Content-Type charset: expat refuses GBK bytes."""
    if len(raw) > MAX_BODY_BYTES:
        raise bad_request(f"请求报文超过 {MAX_BODY_BYTES} 字节")
    if not raw.strip():
        raise bad_request("请求报文为空")
    match = _DECL_ENCODING.match(raw.removeprefix(codecs.BOM_UTF8))
    encoding = match.group(1).decode("ascii") if match else (charset or "utf-8")
    try:
        text = raw.decode("utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise bad_request(f"报文编码错误: {encoding}") from exc
    return _DECL.sub("", text, count=1)


def parse_request(raw: bytes, charset: str | None, soap_action: str | None) -> tuple[str, Element]:
    """The operation name and its element; anything malformed becomes a 1002 Fault, never a trace."""
    try:
        root = SafeET.fromstring(_decode(raw, charset), forbid_dtd=True)
    except (ParseError, DefusedXmlException) as exc:
        raise bad_request(f"XML格式错误: {type(exc).__name__}") from exc
    env_ns, env_name = _local(root.tag)
    if env_name != "Envelope":
        raise bad_request("根元素必须是 soap:Envelope")
    if env_ns != SOAP_ENV:
        raise SoapFault(
            BAD_REQUEST, "SOAP版本不匹配", f"不支持的信封命名空间 {env_ns or '(无)'}", "soap:VersionMismatch"
        )
    body = next((c for c in root if _local(c.tag) == (SOAP_ENV, "Body")), None)
    if body is None or len(body) == 0:
        raise bad_request("缺少 soap:Body 或操作元素")
    request = body[0]
    ns, op = _local(request.tag)
    if ns != NS:
        raise bad_request(f"操作元素命名空间必须是 {NS}")
    action = (soap_action or "").strip().strip('"')
    if action and re.split(r"[/#]", action)[-1] != op:
        raise bad_request(f"SOAPAction {action} 与报文操作 {op} 不一致")
    return op, request


def child_text(request: Element, name: str) -> str | None:
    """A child's stripped text, qualified or not; "" and "null" count as absent, as callers send both."""
    for child in request:
        if _local(child.tag)[1] == name:
            value = (child.text or "").strip()
            return None if value in ("", "null") else value
    return None


def required(request: Element, name: str) -> str:
    value = child_text(request, name)
    if value is None:
        raise bad_request(f"缺少必填参数 {name}")
    return value


def descendant_texts(request: Element, name: str) -> list[str]:
    return [(e.text or "").strip() for e in request.iter() if _local(e.tag)[1] == name]


def envelope(payload: El, encoding: str = "utf-8") -> bytes:
    body = payload.xml()
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?>'
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<soap:Body>{body}</soap:Body></soap:Envelope>"
    )
    return text.encode(encoding, errors="xmlcharrefreplace")


def fault_body(fault: SoapFault, encoding: str = "utf-8") -> bytes:
    detail = node(
        "detail", node("YSFault", leaf("ErrorCode", fault.code), leaf("ErrorInfo", fault.info), xmlns=NS)
    )
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?>'
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body><soap:Fault>'
        f"<faultcode>{fault.faultcode}</faultcode><faultstring>{escape(fault.message)}</faultstring>"
        f"{detail.xml()}</soap:Fault></soap:Body></soap:Envelope>"
    )
    return text.encode(encoding, errors="xmlcharrefreplace")


def busy(info: str) -> SoapFault:
    return SoapFault(BUSY, "系统繁忙,请稍后再试", info, "soap:Server")
