"""`domain.money.Money`: integer fen, shown as yuan with two places."""

from __future__ import annotations

import pytest

from domain.money import Money


@pytest.mark.parametrize(("fen", "yuan"), [(1234, "12.34"), (-5, "-0.05"), (0, "0.00"), (100, "1.00")])
def test_yuan_has_two_places_and_its_sign(fen: int, yuan: str) -> None:
    assert Money(fen).yuan == yuan


def test_sums_and_order_stay_in_fen() -> None:
    assert Money(150) + Money(-50) == Money(100)
    assert Money.zero() < Money(1) and sorted([Money(3), Money(-2)]) == [Money(-2), Money(3)]
