"""Sealing cached values that hold PII: AES-256-GCM, so Redis (or a heap dump) never holds them in clear.

The kind of record (its key prefix) is the associated data, so an entry copied under another kind does
not open. A `Sealer` built without a key makes its own at start-up: fine for the in-process store;
replicas sharing Redis need one shared key (`TIDEGATE_CACHE_KEY`), or each reads the others' entries
as misses.
"""

from __future__ import annotations

import base64
import binascii
import os

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE = 12
_VERSION = "v1:"


class SealError(ValueError):
    """Not a value this key sealed for this cache key (tampered, another key, another key name)."""


class Sealer:
    def __init__(self, key: bytes | None = None) -> None:
        key = key if key is not None else AESGCM.generate_key(bit_length=256)
        if len(key) != 32:
            raise ValueError("the cache key must be 32 bytes (base64url of 32 random bytes)")
        self._aead = AESGCM(key)

    @classmethod
    def from_setting(cls, value: str | None) -> Sealer:
        """`value` is base64 (standard or url-safe) of 32 bytes; None or empty: a key for this process."""
        if not value:
            return cls()
        try:
            return cls(base64.urlsafe_b64decode(value.replace("+", "-").replace("/", "_") + "=="))
        except binascii.Error as exc:
            raise ValueError("the cache key is not base64") from exc

    def seal(self, cache_key: str, payload: object) -> str:
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, orjson.dumps(payload), cache_key.encode())
        return _VERSION + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, cache_key: str, sealed: object) -> object:
        if not isinstance(sealed, str) or not sealed.startswith(_VERSION):
            raise SealError("not a sealed value")
        try:
            raw = base64.b64decode(sealed[len(_VERSION) :], validate=True)
            return orjson.loads(self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], cache_key.encode()))
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise SealError("cannot open the sealed value") from exc
