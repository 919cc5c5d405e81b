"""The shared keys in their canonical form: each backend's mapping converts to and from these."""

from __future__ import annotations

CUSTOMER_PREFIX = "KH"


def customer_digits(customer_no: str) -> str:
    """The digits of a canonical customer number: KH00000042 -> "00000042" (ValueError otherwise)."""
    digits = customer_no.removeprefix(CUSTOMER_PREFIX)
    if not digits.isdigit():
        raise ValueError(f"not a customer number: {customer_no!r}")
    return digits


def customer_no(digits: str | int) -> str:
    """The canonical customer number for a system that dropped the prefix (or the zeros): 42 -> KH00000042."""
    return f"{CUSTOMER_PREFIX}{int(digits):08d}"
