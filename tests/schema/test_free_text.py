"""Free-text redaction (issue 15, finding 4): numbers in notes masked as their structured fields are.

Hypothesis writes notes around generated numbers (every prefix and grouping agents type) and checks
the exact masked text; the negative cases are the numbers a water utility's notes are full of.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schema.free_text import id_check_digit, is_id_number, luhn_ok, mask_free_text
from schema.masking import mask_bank_account, mask_id_card, mask_landline, mask_mobile

# Words around the numbers: Chinese, punctuation, Latin letters, spaces; never a digit or a star,
# which would make the number longer (a different number) or mark it as masked already.
WORDS = st.text(
    alphabet=st.sampled_from(list("客户来电称水表漏水请回电联系身份证卡号座机，。：:()、abcXYZ "))
)
SEPARATOR = st.sampled_from(["", " ", "-"])


def _grouped(digits: str, sizes: list[int], sep: str) -> str:
    """`13812345678`, [3, 4, 4], "-" -> `138-1234-5678`."""
    parts, i = [], 0
    for size in sizes:
        parts.append(digits[i : i + size])
        i += size
    if i < len(digits):
        parts.append(digits[i:])
    return sep.join(p for p in parts if p)


def _around(left: str, number: str, right: str) -> str:
    # A separator next to the number would join it to nothing, but keep the test's text unambiguous.
    return f"{left.rstrip(' -')} {number} {right.lstrip(' -')}"


@st.composite
def mobiles(draw: st.DrawFn) -> tuple[str, str]:
    """(as typed, as masked): `+86 138 1234 5678` -> `+86 138 **** 5678`."""
    national = (
        "1"
        + draw(st.sampled_from("3456789"))
        + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=9, max_size=9)))
    )
    sep = draw(SEPARATOR)
    body = _grouped(national, [3, 4, 4], sep)
    prefix = draw(st.sampled_from(["", "+86", "86", "0086", "+86 ", "0086-"]))
    return prefix + body, prefix + mask_mobile(body)


@st.composite
def id_numbers(draw: st.DrawFn) -> tuple[str, str]:
    first17 = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=17, max_size=17)))
    number = first17 + id_check_digit(first17)
    typed = _grouped(number, [6, 8, 4], draw(SEPARATOR))
    return typed, mask_id_card(typed)


@st.composite
def cards(draw: st.DrawFn) -> tuple[str, str]:
    body = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=15, max_size=18)))
    check = next(d for d in "0123456789" if luhn_ok(body + d))
    typed = _grouped(body + check, [4, 4, 4, 4, 4], draw(SEPARATOR))
    return typed, mask_bank_account(typed)


@st.composite
def landlines(draw: st.DrawFn) -> tuple[str, str]:
    area = draw(st.sampled_from(["010", "021", "0571", "0591", "0755", "0898"]))
    local = draw(st.sampled_from("2345678")) + "".join(
        draw(st.lists(st.sampled_from("0123456789"), min_size=6, max_size=7))
    )
    typed = f"{area}{draw(SEPARATOR)}{local}"
    return typed, mask_landline(typed)


@pytest.mark.parametrize("kind", [mobiles, id_numbers, cards, landlines], ids=lambda k: k.__name__)
@given(data=st.data())
def test_a_number_in_a_note_reads_as_its_structured_field_masked(kind: object, data: st.DataObject) -> None:
    typed, masked = data.draw(kind())  # type: ignore[operator]
    left, right = data.draw(WORDS), data.draw(WORDS)
    assert mask_free_text(_around(left, typed, right)) == _around(left, masked, right)


# Not a bare space between the two: "+8613000000000 154999 01000000 0008" is one spaced run of digits
# even to a reader, and the scan then masks the whole run (over-masking, never a leak).
# A real separator keeps them two numbers.
@given(left=WORDS, first=mobiles(), middle=st.sampled_from(["、", "，", " / ", "; "]), second=id_numbers())
def test_several_numbers_in_one_note_are_each_masked(
    left: str, first: tuple[str, str], middle: str, second: tuple[str, str]
) -> None:
    text = f"{left}{first[0]}{middle}{second[0]}"
    assert mask_free_text(text) == f"{left}{first[1]}{middle}{second[1]}"


@given(st.text())
def test_masking_is_idempotent(text: str) -> None:
    once = mask_free_text(text)
    assert mask_free_text(once) == once


@given(st.text())
def test_masking_only_ever_stars_digits(text: str) -> None:
    masked = mask_free_text(text)
    assert len(masked) == len(text)
    assert all(a == b or (a.isdigit() and b == "*") for a, b in zip(text, masked, strict=True))


DATES = st.dates(date(2000, 1, 1), date(2099, 12, 31))  # the years 13xx-19xx would read as mobiles
NOT_PII = st.one_of(
    st.builds(lambda d, n: f"GD{d:%Y%m%d}{n:05d}", DATES, st.integers(0, 99_999)),  # work orders
    st.builds(lambda n: f"KH{n:08d}", st.integers(0, 99_999_999)),  # customers
    st.builds(lambda n: f"{n:010d}", st.integers(0, 99_999_999)),  # 户号, zero-padded
    st.builds(lambda y, f: f"{y}.{f:02d}元", st.integers(0, 9_999_999), st.integers(0, 99)),  # amounts
    st.builds(lambda d: f"{d:%Y-%m-%d}", DATES),
    st.builds(lambda d: f"{d:%Y%m%d}", DATES),
    st.builds(lambda d: f"{d.year}年{d.month}月{d.day}日", DATES),
    st.builds(lambda n: f"{n}吨", st.integers(0, 10**9)),  # volumes, counts
)


@given(left=WORDS, value=NOT_PII, right=WORDS)
def test_order_numbers_amounts_and_dates_are_left_alone(left: str, value: str, right: str) -> None:
    text = _around(left, value, right)
    assert mask_free_text(text) == text


def test_an_id_number_needs_its_check_digit() -> None:
    assert is_id_number("35050519440919112X") and mask_free_text("35050519440919112X") == "*" * 14 + "112X"
    assert not is_id_number("350505194409191121")  # one digit off: neither an ID nor a Luhn card
    assert mask_free_text("350505194409191121") == "350505194409191121"
    assert not is_id_number("111111111111111")  # 15-digit cards are not looked for (see the module)


def test_the_worked_examples_of_the_issue() -> None:
    note = "来电，手机 +86 138-1234-5678，身份证35050519440919112X，座机0571-86123456，工单GD2026112600317"
    assert mask_free_text(note) == (
        "来电，手机 +86 138-****-5678，身份证**************112X，座机0571-****3456，工单GD2026112600317"
    )


def test_a_long_adversarial_text_is_scanned_once() -> None:
    """Not a timing test: 20,000 one-digit groups make one span, none of it a number, and a mobile
    at its end is still found (each start looks at most 24 digits ahead, see the module)."""
    text = "1-" * 20_000 + " 13812345678"
    assert mask_free_text(text) == "1-" * 20_000 + " 138****5678"
