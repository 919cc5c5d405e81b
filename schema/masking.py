"""How each kind of PII reads when masked: pure functions, one per `MaskKind`.

An agent must recognise a caller ("is your ID card ending 112X?") without the screen ever
showing enough to misuse. Every rule keeps the length of what it leaves visible, keeps
separators (spaces, dashes) in place, and is idempotent: masking a masked value changes nothing.
"""

from __future__ import annotations

import re
from enum import Enum

import strawberry

STAR = "*"


@strawberry.enum(description="How a masked field reads unless the caller may unmask it.")
class MaskKind(Enum):
    ID_CARD = "ID_CARD"
    MOBILE = "MOBILE"
    LANDLINE = "LANDLINE"
    PHONE = "PHONE"
    BANK_ACCOUNT = "BANK_ACCOUNT"
    NAME = "NAME"
    ADDRESS = "ADDRESS"
    FREE_TEXT = "FREE_TEXT"  # notes and descriptions: every number in them, by its own rule
    STAFF_MOBILE = "STAFF_MOBILE"  # our field workers' own mobiles: masked like a customer's


# Kinds about the utility's own staff: no customer owns them, a scope reveals them (`Access`).
STAFF_KINDS = frozenset({MaskKind.STAFF_MOBILE})


def _counts(ch: str) -> bool:
    """A character that occupies a position: stars count too, which keeps every rule idempotent."""
    return ch.isalnum() or ch == STAR


def star(value: str, head: int, tail: int) -> str:
    """Star every position but the first `head` and last `tail`; separators stay as they are.

    When that would hide nothing, everything is starred: a short value shown whole is not masked.
    """
    if value.isalnum():  # no separator, no star (most IDs, numbers and names): sliced, not walked
        n = len(value)
        if n <= head + tail:
            return STAR * n
        return value[:head] + STAR * (n - head - tail) + value[n - tail :]
    return _star_walked(value, head, tail)


def _star_walked(value: str, head: int, tail: int) -> str:
    """`star`, character by character: separators kept, stars counted as positions."""
    n = sum(1 for ch in value if _counts(ch))
    if n <= head + tail:
        head = tail = 0
    out: list[str] = []
    i = 0
    for ch in value:
        if not _counts(ch):
            out.append(ch)
            continue
        out.append(ch if i < head or i >= n - tail else STAR)
        i += 1
    return "".join(out)


def mask_id_card(value: str) -> str:
    """`35050519440919112X` -> `**************112X`: the last four, the agent's usual check."""
    return star(value, 0, 4)


def mask_bank_account(value: str) -> str:
    """Last four only, as on a bank's own statements."""
    return star(value, 0, 4)


def mask_mobile(value: str) -> str:
    """`13812345678` -> `138****5678`: carrier prefix and last four."""
    return star(value, 3, 4)


def _area_code_length(value: str) -> int:
    """China's area codes: 010 and 02x are three digits, all others four (0571)."""
    digits = "".join(ch for ch in value if ch.isdigit())
    return 3 if digits.startswith(("01", "02")) else 4


def mask_landline(value: str) -> str:
    """`057186123456` -> `0571****3456`: area code (where the caller is) and last four."""
    return star(value, _area_code_length(value), 4)


_MOBILE = re.compile(r"(?:\+?86)?1[3-9]\d{9}")


def mask_phone(value: str) -> str:
    """A number of either kind: mobiles (11 digits from 13-19) one way, anything else as a landline.

    Stars read as digits here, so a masked mobile is still recognised as one.
    """
    probe = "".join("0" if ch == STAR else ch for ch in value if ch.isdigit() or ch in "+*")
    return mask_mobile(value) if _MOBILE.fullmatch(probe) else mask_landline(value)


_SEPARATORS = frozenset(" ·•.-")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff*]+")


def mask_name(value: str) -> str:
    """A person's Chinese name keeps its first and last character: `张*明`, `张*`, `*`, `欧**娜`.

    Anything else (Latin names, organisations such as `江城市第一中学`, names with `·`) keeps its
    first character and stars the rest except separators: `J*** S****`, `江******`. The rule is
    decided from the value alone, so it cannot depend on the customer kind being right.
    """
    if not value:
        return value
    if len(value) <= 4 and _HAN.fullmatch(value):
        if len(value) == 1:
            return STAR
        if len(value) == 2:
            return value[0] + STAR
        return value[0] + STAR * (len(value) - 2) + value[-1]
    shown = [i for i, ch in enumerate(value) if ch not in _SEPARATORS]
    keep = shown[0] if len(shown) > 1 else -1  # a one-character name is starred whole
    return "".join(ch if ch in _SEPARATORS or i == keep else STAR for i, ch in enumerate(value))


_HOUSE_NO = re.compile(r"\d+号")
_DIGIT = re.compile(r"\d")


def mask_address(value: str) -> str:
    """Down to the 小区, never the building or the flat; a street address loses its house number.

    `江城市临江区人民路201号湖畔嘉园1幢1单元601室` -> `江城市临江区人民路201号湖畔嘉园` (the gate
    number names the compound, not a home); `江城市临江区人民路201号` -> `江城市临江区人民路`.
    Without a `号` everything from the first digit on goes: `临江区湖畔嘉园3幢` -> `临江区湖畔嘉园`.
    """
    house = _HOUSE_NO.search(value)
    if house is None:
        first_digit = _DIGIT.search(value)
        return value if first_digit is None else value[: first_digit.start()].rstrip()
    street, rest = value[: house.start()], value[house.end() :]
    first_digit = _DIGIT.search(rest)
    compound = (rest if first_digit is None else rest[: first_digit.start()]).strip()
    return f"{value[: house.end()]}{compound}" if compound else street.rstrip()
