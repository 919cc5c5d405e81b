"""PII typed into free text (notes, ticket descriptions), found and masked like the structured fields.

Agents type what callers say: "回电 138 1234 5678", "身份证 35050519440919112X". The structured
fields are masked by kind (`schema.masking`); the same numbers inside a note must read the same way,
so each number found here is masked by the very rule its structured field uses:

- a mainland mobile, `1[3-9]` and 9 digits, after `+86`, `86`, `0086` or nothing: `mask_mobile` on
  the national part, the prefix kept (`+86 138 **** 5678`);
- an 18-digit ID number whose GB 11643 check character is right: `mask_id_card`;
- a bank card, 16-19 digits passing Luhn: `mask_bank_account`;
- a landline with its area code, `0xx(x)` and 7-8 digits (10-12 in all): `mask_landline`.

Digits may be grouped by single spaces or dashes (`138-1234-5678`, `0571 8612 3456`).

Left alone, on purpose: numbers glued to other digits; work-order and customer numbers
(`GD2026112600317`, `KH00000019`: wrong length or shape for every rule above); amounts (`128.50元`:
the point splits them); dates (`2026-11-26`: eight digits); local landlines without an area code
(eight digits read like dates and counts); 15-digit ID numbers (no check digit, so fifteen ones
would pass; the cards were withdrawn in 2013); an 18-digit ID with a wrong check digit.
Knowingly over-masked: any 11-digit number starting 13-19 (`GD19010100000` from the year 19),
and any 16-19 digit number that happens to pass Luhn (about one in ten): better hidden.

Linear time: `_NUMBER` is `\\d+(?:[ -]\\d+)*[Xx]?`: every character is taken by exactly one
part (a digit run or the one separator between runs), so the engine never backtracks over a span,
and each span is then cut into at most 24-digit windows, so the work per span is bounded by its
length. Where one span reads several ways (`130 0000 0000 005689 ...`: a mobile and an ID, or one
long card), the reading that masks the most digits wins. Masking is idempotent: digits touching a
star (`138****5678`, `138 **** 5678`) are taken as what an earlier masking left visible and never
read again (so `***` typed before a number hides it from these rules too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from schema.masking import mask_bank_account, mask_id_card, mask_landline, mask_mobile

_NUMBER = re.compile(r"\d+(?:[ \-]\d+)*[Xx]?")
_GROUP = re.compile(r"\d+|[Xx]")  # the check character on its own: a mobile may be followed by an X
_SEPARATORS = " -"
_STAR = "*"
_MOBILE = re.compile(r"(86|0086)?1[3-9]\d{9}")
_LANDLINE = re.compile(r"0[1-9]\d{8,10}")
_LONGEST = 4 + 19 + 1  # a 0086 prefix and the longest card, with room for one stray digit
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    """GB 11643-1999: weights 2^(17-i) mod 11 over the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def is_id_number(value: str) -> bool:
    """An 18-character ID whose check character is right."""
    return len(value) == 18 and value[:17].isdigit() and value[17].upper() == id_check_digit(value[:17])


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


@dataclass(frozen=True, slots=True)
class _Group:
    start: int
    end: int
    chars: str  # the digits (and a final X) with no separators


def _rule(chars: str) -> tuple[str, int] | None:
    """Which structured rule a run of digits reads as, and how many leading digits are a prefix."""
    mobile = _MOBILE.fullmatch(chars)
    if mobile is not None:
        return "mobile", len(mobile.group(1) or "")
    if is_id_number(chars):
        return "id", 0
    if chars.isdigit() and 16 <= len(chars) <= 19 and luhn_ok(chars):
        return "card", 0
    if _LANDLINE.fullmatch(chars):
        return "landline", 0
    return None


def _split_prefix(text: str, digits: int) -> tuple[str, str]:
    """`+86 138-1234-5678` with 2 prefix digits -> (`+86 `, `138-1234-5678`)."""
    seen = 0
    for i, ch in enumerate(text):
        if seen == digits and ch.isdigit():
            return text[:i], text[i:]
        seen += ch.isdigit()
    return text, ""


def _masked(text: str, rule: str, prefix: int) -> str:
    if rule == "mobile":
        head, national = _split_prefix(text, prefix)
        return head + mask_mobile(national)
    if rule == "landline":
        return mask_landline(text)
    return mask_id_card(text) if rule == "id" else mask_bank_account(text)


def _touches_star(text: str, at: int, step: int) -> bool:
    """A star at `at` (or one separator further): these digits are the visible part of a masked number."""
    if not 0 <= at < len(text):
        return False
    if text[at] in _SEPARATORS:
        at += step
    return 0 <= at < len(text) and text[at] == _STAR


def _mask_span(text: str, start: int, end: int, out: list[str]) -> None:
    """Mask the numbers in one span of digit groups."""
    groups = [_Group(m.start(), m.end(), m.group()) for m in _GROUP.finditer(text, start, end)]
    if groups and _touches_star(text, start - 1, -1):
        groups = groups[1:]  # what masking left visible is never read again: masking is idempotent
    if groups and _touches_star(text, end, +1):
        groups = groups[:-1]
    plan = _plan(groups)
    i, done = 0, start
    while i < len(groups):
        step = plan[i]
        if step is None:
            i += 1
            continue
        j, rule, prefix = step
        out.append(text[done : groups[i].start])
        out.append(_masked(text[groups[i].start : groups[j].end], rule, prefix))
        done = groups[j].end
        i = j + 1
    out.append(text[done:end])


def _plan(groups: list[_Group]) -> list[tuple[int, str, int] | None]:
    """Which runs of groups to read as numbers: the reading that masks the most digits.

    `130 0000 0000 350505 19440919 112X` is a mobile and an ID, not a 17-digit card and a remainder:
    a dynamic programme from the right, each start looking at most `_LONGEST` digits ahead.
    """
    n = len(groups)
    covered = [0] * (n + 1)
    choice: list[tuple[int, str, int] | None] = [None] * (n + 1)
    for i in range(n - 1, -1, -1):
        covered[i] = covered[i + 1]  # group i left as it is
        chars = ""
        for j in range(i, n):
            chars += groups[j].chars
            if len(chars) > _LONGEST:
                break
            found = _rule(chars)
            if found is not None and len(chars) + covered[j + 1] >= covered[i]:
                covered[i], choice[i] = len(chars) + covered[j + 1], (j, *found)
    return choice


def mask_free_text(value: str) -> str:
    """Every phone, ID and card number in `value` masked as its structured field would be."""
    out: list[str] = []
    done = 0
    for m in _NUMBER.finditer(value):
        out.append(value[done : m.start()])
        _mask_span(value, m.start(), m.end(), out)
        done = m.end()
    out.append(value[done:])
    return "".join(out)
