"""`form_encode`: `urllib.parse.urlencode` of plain pairs, spelled byte for byte as it spells them.

Why not `urlencode` itself: per value it runs `quote_plus`, `quote` and `quote_from_bytes` in Python and,
for any value with a character to escape, a Python-level loop over its bytes; a screen pop sends four
encoded queries (the GIS layers' `where`, `outFields`, `orderByFields`, the CRM's phone search): 28
values, about 1% of the pop's CPU (issue 21). Here each value is spelled through a table built once
from the same rules, in C: `str.translate` for ASCII text (a third of `urlencode`'s time for the GIS
query), its UTF-8 bytes mapped one by one otherwise; no cache that could keep a caller's phone number
or account numbers in memory.

The rules are `quote_plus(value, safe="")`: letters, digits and `_.-~` as they are, a space as `+`,
every other byte as `%XX` in upper-case hex. Keys and values that are not `str` are spelled with
`str()` first, as `urlencode` does; bytes and anything nested are `urlencode`'s own business.
`tests/infra/test_request_factory.py` compares the two on generated text.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

_ALWAYS_SAFE = frozenset(string.ascii_letters + string.digits + "_.-~")
# The spelling of each byte value in a form-encoded value.
_SPELLED: tuple[str, ...] = tuple(
    chr(byte) if chr(byte) in _ALWAYS_SAFE else "+" if byte == 0x20 else f"%{byte:02X}" for byte in range(256)
)
_spell = _SPELLED.__getitem__
# The same for ASCII text, as a `str.translate` table: an ASCII character is its own UTF-8 byte.
_ASCII: dict[int, str] = dict(enumerate(_SPELLED[:128]))


def form_quote(value: str) -> str:
    """`quote_plus(value, safe="")` (UTF-8, strict: a lone surrogate raises `UnicodeEncodeError`)."""
    if value.isascii():
        return value.translate(_ASCII)
    return "".join(map(_spell, value.encode()))


def form_encode(query: Mapping[Any, Any] | Sequence[tuple[Any, Any]]) -> str:
    """`urlencode(query)`: `key=value` pairs joined by `&`, in order."""
    pairs = query.items() if isinstance(query, Mapping) else query
    spelled = []
    for key, value in pairs:
        if type(key) is not str or type(value) is not str:
            if isinstance(key, bytes | bytearray) or isinstance(value, bytes | bytearray):
                return urlencode(query)
            key, value = str(key), str(value)
        spelled.append(f"{form_quote(key)}={form_quote(value)}")
    return "&".join(spelled)
