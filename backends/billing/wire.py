"""SOAP 1.1 plumbing for the 营收 system: request envelopes, safe decoding and parsing, faults.

The meter endpoint answers GBK and expat only reads single-byte encodings and UTF-8/16, so
every body is decoded by its XML declaration (else the Content-Type charset) before parsing.
Parsing goes through defusedxml with DTDs forbidden: no entity expansion, no external fetches.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from backends.billing.row import Row, local_name

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS = "urn:yingshou:revenue:v1"
CONTENT_TYPE = "text/xml; charset=utf-8"
SUCCESS = "0"  # FHDM (返回代码) of every successful answer

_DECL_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
# Legacy Chinese stacks declare GB2312 or GBK and send whatever the database holds: read both
# with GB18030, the superset, so a rare character in a name cannot fail a whole answer.
_SUPERSET = {"gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030"}


class WireError(ValueError):
    """The body is not a well-formed SOAP envelope we can read; the message says why."""


@dataclass(frozen=True, slots=True)
class Fault:
    """A SOAP Fault, or a success envelope whose FHDM is not 0: the vendor's code and words."""

    code: str | None  # <ErrorCode> (1001, 1002, 2001, 9999) or FHDM
    faultcode: str | None  # soap:Client / soap:Server
    message: str  # faultstring or FHXX
    info: str | None  # <ErrorInfo>: the specific reason, e.g. "户号不存在: 0000000001"


def leaf(tag: str, value: str) -> str:
    return f"<ys:{tag}>{escape(value)}</ys:{tag}>"


def wrap(tag: str, *children: str) -> str:
    return f"<ys:{tag}>{''.join(children)}</ys:{tag}>"


def request_body(op: str, *children: str) -> bytes:
    """A document/literal request in the revenue namespace, always sent as UTF-8."""
    return (
        f'<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}" xmlns:ys="{NS}">'
        f"<soap:Body>{wrap(op, *children)}</soap:Body></soap:Envelope>"
    ).encode()


def soap_action(op: str) -> str:
    """As the WSDL binding declares it, quoted the SOAP 1.1 way."""
    return f'"{NS}/{op}"'


def charset_of(content_type: str | None) -> str | None:
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip("\"'")
    return None


def decode(body: bytes, content_type: str | None) -> str:
    """Text by the declared encoding (XML declaration first, then Content-Type, then UTF-8)."""
    raw = body.removeprefix(codecs.BOM_UTF8)
    match = _DECL_ENCODING.match(raw)
    encoding = match.group(1).decode("ascii") if match else (charset_of(content_type) or "utf-8")
    try:
        text = raw.decode(_SUPERSET.get(encoding.lower(), encoding))
    except LookupError as exc:
        raise WireError(f"unknown encoding {encoding!r}") from exc
    except UnicodeDecodeError as exc:
        raise WireError(f"body is not valid {encoding} at byte {exc.start}") from exc
    # The declaration would name an encoding the already-decoded text no longer has.
    return _DECL.sub("", text, count=1)


def parse(body: bytes, content_type: str | None) -> Element:
    if not body.strip():
        raise WireError("empty body")
    text = decode(body, content_type)
    try:
        root: Element = SafeET.fromstring(text, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise WireError(f"forbidden XML construct: {type(exc).__name__}") from exc
    except ParseError as exc:
        raise WireError(f"malformed XML: {exc}") from exc
    if local_name(root.tag) != "Envelope":
        raise WireError(f"root element is <{local_name(root.tag)}>, not a SOAP Envelope")
    return root


def _body(root: Element) -> Element:
    body = next((c for c in root if local_name(c.tag) == "Body"), None)
    if body is None:
        raise WireError("no soap:Body")
    return body


def find_fault(root: Element) -> Fault | None:
    """The Fault inside the Body, if that is what the system answered."""
    fault = next((c for c in _body(root) if local_name(c.tag) == "Fault"), None)
    if fault is None:
        return None
    row = Row(fault, "Fault")
    detail = next((e for e in fault.iter() if local_name(e.tag) == "YSFault"), None)
    extra = Row(detail, "Fault") if detail is not None else None
    return Fault(
        code=extra.text("ErrorCode") if extra else None,
        faultcode=row.text("faultcode"),
        message=row.text("faultstring") or "",
        info=extra.text("ErrorInfo") if extra else None,
    )


def response(root: Element, op: str) -> Row:
    """The `<{op}Response>` element: a different one means we are talking to the wrong thing."""
    children = list(_body(root))
    if not children:
        raise WireError("empty soap:Body")
    name = local_name(children[0].tag)
    if name != f"{op}Response":
        raise WireError(f"expected <{op}Response>, got <{name}>")
    return Row(children[0], op)


def status_fault(answer: Row) -> Fault | None:
    """A success envelope still carries 返回代码 FHDM; anything but 0 is an in-band failure."""
    code = answer.text("FHDM")
    if code is None:
        raise WireError(f"<{answer.tag}> has no FHDM return code")
    if code == SUCCESS:
        return None
    return Fault(code=code, faultcode=None, message=answer.text("FHXX") or "", info=None)
