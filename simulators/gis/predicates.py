"""Compiled `where` predicates: closures over a feature's attributes, with SQL's NULL logic.

Each node knows whether it is a constant (`1=1` skips per-feature work) and, for
`FIELD = x` / `FIELD IN (...)` conjuncts, the keys an index lookup can start from.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from simulators.gis.schema import DATA_TZ

Row = Mapping[str, Any]
Test = Callable[[Row], bool | None]
Hint = tuple[str, frozenset[Any]]

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


class WhereSyntaxError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Operand:
    kind: str  # "num" | "str" | "date"
    field: str | None = None  # set for a field reference
    value: Any = None  # set for a literal


@dataclass(frozen=True, slots=True)
class Where:
    test: Test
    const: bool | None = None  # the whole clause is a constant (e.g. 1=1)
    hint: Hint | None = None
    width: int = 1  # the longest IN list: how many keys one request asks for

    def matches(self, row: Row) -> bool:
        return self.test(row) is True


def date_ms(text: str) -> int:
    try:
        stamp = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise WhereSyntaxError(f"not a date: {text!r}") from exc
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=DATA_TZ)
    return int(stamp.timestamp() * 1000)


def const(value: bool | None) -> Where:
    return Where(lambda _r: value, const=value)


def coerce(op: Operand, kind: str) -> Operand:
    """Literals must match the field's type; a date field also takes a quoted date string."""
    if op.kind == kind or op.field is not None:
        return op
    if kind == "date" and op.kind == "str":
        return Operand("date", value=date_ms(op.value))
    raise WhereSyntaxError(f"cannot compare a {kind} with {op.value!r}")


def _getter(op: Operand) -> Callable[[Row], Any]:
    if op.field is not None:
        return operator.itemgetter(op.field)
    value = op.value
    return lambda _r: value


def compare(left: Operand, op: str, right: Operand) -> Where:
    if left.field is None and right.field is not None:  # `5 < DIAMETER`: put the field first
        left, right = right, left
        op = _FLIPPED.get(op, op)
    right = coerce(right, left.kind)
    left = coerce(left, right.kind)
    if left.kind != right.kind:
        raise WhereSyntaxError(f"cannot compare {left.kind} with {right.kind}")
    fn = _COMPARE[op]
    if left.field is None:
        return const(fn(left.value, right.value))
    get_l, get_r = _getter(left), _getter(right)

    def test(row: Row) -> bool | None:
        a, b = get_l(row), get_r(row)
        return None if a is None or b is None else fn(a, b)

    hint = (left.field, frozenset([right.value])) if op == "=" and right.field is None else None
    return Where(test, hint=hint)


def in_(left: Operand, values: frozenset[Any]) -> Where:
    if left.field is None:
        return const(left.value in values)
    get = _getter(left)

    def test(row: Row) -> bool | None:
        v = get(row)
        return None if v is None else v in values

    return Where(test, hint=(left.field, values), width=len(values))


def like(left: Operand, pattern: str) -> Where:
    rx = re.compile("".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern), re.S)
    get = _getter(left)

    def test(row: Row) -> bool | None:
        v = get(row)
        return None if v is None else rx.fullmatch(v) is not None

    return Where(test)


def is_null(left: Operand, negate: bool) -> Where:
    get = _getter(left)
    return Where(lambda row: (get(row) is None) != negate)


def and_(a: Where, b: Where) -> Where:
    if a.const is False or b.const is False:
        return const(False)
    if a.const is True:
        return b
    if b.const is True:
        return a
    ta, tb = a.test, b.test

    def test(row: Row) -> bool | None:
        x = ta(row)
        if x is False:
            return False
        y = tb(row)
        if y is False:
            return False
        return None if x is None or y is None else True

    hints = [h for h in (a.hint, b.hint) if h is not None]
    hint = min(hints, key=lambda h: len(h[1])) if hints else None
    return Where(test, hint=hint, width=max(a.width, b.width))


def or_(a: Where, b: Where) -> Where:
    if a.const is True or b.const is True:
        return const(True)
    if a.const is False:
        return b
    if b.const is False:
        return a
    ta, tb = a.test, b.test

    def test(row: Row) -> bool | None:
        x = ta(row)
        if x is True:
            return True
        y = tb(row)
        if y is True:
            return True
        return None if x is None or y is None else False

    hint = None
    if a.hint and b.hint and a.hint[0] == b.hint[0]:
        hint = (a.hint[0], a.hint[1] | b.hint[1])
    return Where(test, hint=hint, width=max(a.width, b.width))


def not_(a: Where) -> Where:
    if a.const is not None:
        return const(not a.const)
    ta = a.test

    def test(row: Row) -> bool | None:
        x = ta(row)
        return None if x is None else not x

    return Where(test, width=a.width)
