"""`domain.keys`: the canonical customer number, to and from the digits other systems keep."""

from __future__ import annotations

import pytest

from domain.keys import customer_digits, customer_no


def test_customer_numbers_round_trip_through_their_digits() -> None:
    assert customer_no(42) == customer_no("00000042") == "KH00000042"
    assert customer_digits("KH00000042") == "00000042"


@pytest.mark.parametrize("raw", ["KH", "KH12A", "kh00000042", "KH-0000042"])
def test_anything_else_is_not_a_customer_number(raw: str) -> None:
    with pytest.raises(ValueError):
        customer_digits(raw)
