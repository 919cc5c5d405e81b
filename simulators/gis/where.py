"""A small SQL-92 `where` parser, compiled once per request into closures over a feature's attributes.

Served: `1=1`, `= <> != < <= > >=`, `[NOT] IN (...)`, `[NOT] LIKE '..%_'`, `[NOT] BETWEEN a AND b`,
`IS [NOT] NULL`, `AND`/`OR`/`NOT`, parentheses, `DATE '...'`/`TIMESTAMP '...'` literals.
Field names are case-insensitive and checked against the layer; types must match.
Date literals are read in the data's own time zone (China Standard Time).
"""

from __future__ import annotations

import re
from typing import Any

from simulators.gis import predicates as p
from simulators.gis.errors import bad_param
from simulators.gis.predicates import Operand, Where, WhereSyntaxError
from simulators.gis.schema import LayerSchema

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<str>'(?:[^']|'')*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><>|!=|<=|>=|=|<|>)
  | (?P<punct>[(),-])
)""",
    re.X,
)
_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "LIKE", "IS", "NULL", "BETWEEN", "DATE", "TIMESTAMP"})


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise WhereSyntaxError(f"unexpected text at {text[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "name" and value.upper() in _KEYWORDS:
            kind, value = "kw", value.upper()
        out.append((kind, value))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str, schema: LayerSchema) -> None:
        self.toks = _tokens(text)
        self.pos = 0
        self.schema = schema

    def peek(self, offset: int = 0) -> tuple[str, str]:
        i = self.pos + offset
        return self.toks[i] if i < len(self.toks) else ("end", "")

    def take(self, kind: str, value: str | None = None) -> str:
        k, v = self.peek()
        if k != kind or (value is not None and v != value):
            raise WhereSyntaxError(f"expected {value or kind}, found {v or 'end of clause'!r}")
        self.pos += 1
        return v

    def accept(self, kind: str, value: str) -> bool:
        if self.peek() == (kind, value):
            self.pos += 1
            return True
        return False

    def parse(self) -> Where:
        if not self.toks:
            raise WhereSyntaxError("empty clause")
        node = self.or_()
        if self.pos != len(self.toks):
            raise WhereSyntaxError(f"unexpected {self.peek()[1]!r}")
        return node

    def or_(self) -> Where:
        node = self.and_()
        while self.accept("kw", "OR"):
            node = p.or_(node, self.and_())
        return node

    def and_(self) -> Where:
        node = self.not_()
        while self.accept("kw", "AND"):
            node = p.and_(node, self.not_())
        return node

    def not_(self) -> Where:
        if self.accept("kw", "NOT"):
            return p.not_(self.not_())
        if self.peek() == ("punct", "("):
            self.pos += 1
            node = self.or_()
            self.take("punct", ")")
            return node
        return self.predicate()

    def operand(self) -> Operand:
        kind, value = self.peek()
        self.pos += 1
        if kind == "punct" and value == "-" and self.peek()[0] == "num":
            return Operand("num", value=-_number(self.take("num")))
        if kind == "num":
            return Operand("num", value=_number(value))
        if kind == "str":
            return Operand("str", value=value[1:-1].replace("''", "'"))
        if kind == "kw" and value in ("DATE", "TIMESTAMP"):
            return Operand("date", value=p.date_ms(self.take("str")[1:-1]))
        if kind == "name":
            found = self.schema.field(value)
            if found is None:
                raise WhereSyntaxError(f"unknown field {value!r}")
            return Operand(found.kind, field=found.name)
        raise WhereSyntaxError(f"expected a field or a value, found {value or 'end of clause'!r}")

    def literal(self, like: Operand) -> Any:
        lit = self.operand()
        if lit.field is not None:
            raise WhereSyntaxError("expected a literal value")
        return p.coerce(lit, like.kind).value

    def predicate(self) -> Where:
        left = self.operand()
        kind, value = self.peek()
        if kind == "op":
            self.pos += 1
            return p.compare(left, value, self.operand())
        if self.accept("kw", "IS"):
            negate = self.accept("kw", "NOT")
            self.take("kw", "NULL")
            return p.is_null(left, negate)
        negate = self.accept("kw", "NOT")
        if self.accept("kw", "IN"):
            self.take("punct", "(")
            values = [self.literal(left)]
            while self.accept("punct", ","):
                values.append(self.literal(left))
            self.take("punct", ")")
            node = p.in_(left, frozenset(values))
        elif self.accept("kw", "LIKE"):
            pattern = self.operand()
            if left.kind != "str" or pattern.kind != "str" or pattern.field is not None:
                raise WhereSyntaxError("LIKE needs a text field and a quoted pattern")
            node = p.like(left, str(pattern.value))
        elif self.accept("kw", "BETWEEN"):
            low = Operand(left.kind, value=self.literal(left))
            self.take("kw", "AND")
            high = Operand(left.kind, value=self.literal(left))
            node = p.and_(p.compare(left, ">=", low), p.compare(left, "<=", high))
        else:
            raise WhereSyntaxError(f"expected a comparison after {left.field or left.value!r}")
        return p.not_(node) if negate else node


def _number(text: str) -> int | float:
    return float(text) if any(c in text for c in ".eE") else int(text)


def compile_where(text: str, schema: LayerSchema) -> Where:
    """An empty clause means every feature, as FeatureServer treats a missing `where`."""
    if not text.strip():
        return p.const(True)
    try:
        return _Parser(text, schema).parse()
    except WhereSyntaxError as exc:
        raise bad_param("where", str(exc)) from exc
