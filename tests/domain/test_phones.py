"""`domain.phones.national`: every way a caller's number is typed comes out as one national form."""

from __future__ import annotations

import pytest

from domain.phones import national


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+86 138 1234 5678", "13812345678"),
        ("0086-13812345678", "13812345678"),
        ("013812345678", "13812345678"),  # a trunk 0 dialled before a mobile
        ("(0571) 8612-3456", "057186123456"),
        ("+86 571 86123456", "057186123456"),  # a landline that lost its trunk 0 after +86
        ("（0571）86123456", "057186123456"),
    ],
)
def test_numbers_reduce_to_national_digits(raw: str, expected: str) -> None:
    assert national(raw) == expected


@pytest.mark.parametrize("raw", ["", "12345", "1381234567x", "10086", "+1 415 555 0100 99"])
def test_what_is_neither_mobile_nor_landline_is_none(raw: str) -> None:
    assert national(raw) is None
