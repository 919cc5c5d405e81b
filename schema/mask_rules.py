"""Every `MaskKind`'s rule in one table, and masking a field's resolved value by it.

Apart from `schema.masking` because the free-text rule (`schema.free_text`) is built from the
structured rules: the table needs both, and neither needs the table.
"""

from __future__ import annotations

from collections.abc import Callable

from schema.free_text import mask_free_text
from schema.masking import (
    MaskKind,
    mask_address,
    mask_bank_account,
    mask_id_card,
    mask_landline,
    mask_mobile,
    mask_name,
    mask_phone,
)

RULES: dict[MaskKind, Callable[[str], str]] = {
    MaskKind.ID_CARD: mask_id_card,
    MaskKind.MOBILE: mask_mobile,
    MaskKind.LANDLINE: mask_landline,
    MaskKind.PHONE: mask_phone,
    MaskKind.BANK_ACCOUNT: mask_bank_account,
    MaskKind.NAME: mask_name,
    MaskKind.ADDRESS: mask_address,
    MaskKind.FREE_TEXT: mask_free_text,
    MaskKind.STAFF_MOBILE: mask_mobile,
}


def mask_value(kind: MaskKind, value: object) -> object:
    """Mask a field's resolved value: strings by rule, lists element-wise, None stays None."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return [mask_value(kind, v) for v in value]
    if isinstance(value, str):
        return RULES[kind](value)
    raise TypeError(f"@mask({kind.name}) on a non-string value of type {type(value).__name__}")
