"""Phone numbers as every caller types them, reduced to one national form."""

from __future__ import annotations

import re

_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{9,11}")


def national(raw: str) -> str | None:
    """`+86 138 1234 5678`, `0086-13812345678`, `013812345678`, `(0571) 8612-3456` → digits.

    Mobiles come out as 11 digits, landlines with their area code and leading 0; anything that
    is neither comes back as None.
    """
    digits = re.sub(r"[\s\-()（）.]", "", raw.strip())
    if digits.startswith("+"):
        digits = digits[1:]
    if not digits.isdigit():
        return None
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 10:
            digits = digits[len(prefix) :]
            break
    if len(digits) == 12 and digits.startswith("01") and _MOBILE.fullmatch(digits[1:]):
        digits = digits[1:]  # a trunk 0 dialled before a mobile
    if _MOBILE.fullmatch(digits):
        return digits
    if not digits.startswith("0") and 10 <= len(digits) <= 11:
        digits = "0" + digits  # landline that lost its trunk 0 after +86
    if _LANDLINE.fullmatch(digits):
        return digits
    return None
