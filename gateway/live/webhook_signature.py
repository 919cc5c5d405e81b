"""Standard Webhooks signature checks (https://www.standardwebhooks.com): pure functions, no I/O.

A delivery carries `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`, a
space-separated list of `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`: during a secret
rotation the sender signs with old and new secrets and the receiver accepts either. Secrets are
written `whsec_<base64 of 24-64 bytes>`. The timestamp must lie within the tolerance (5 minutes) of
our clock either way, so a captured delivery cannot be replayed later; every candidate signature is
compared with every expected one in constant time, with no early exit.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"
MIN_KEY_BYTES, MAX_KEY_BYTES = 24, 64
DEFAULT_TOLERANCE_S = 300
MAX_SIGNATURES = 10  # entries looked at in one header: a sender rotating needs two


class WebhookVerificationError(Exception):
    """The delivery is not authentic or not fresh; the message says which check failed."""


def decode_secret(secret: str) -> bytes:
    """The key bytes of one `whsec_...` secret; ValueError when it is not one."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as exc:
        raise ValueError("a webhook secret is whsec_ followed by base64") from exc
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise ValueError(f"a webhook secret holds {MIN_KEY_BYTES}-{MAX_KEY_BYTES} bytes, not {len(key)}")
    return key


def parse_secrets(value: str) -> list[bytes]:
    """Comma-separated `whsec_...` secrets (several during a rotation) as keys; ValueError if one is bad."""
    return [decode_secret(s.strip()) for s in value.split(",") if s.strip()]


def signature(key: bytes, message_id: str, timestamp: str, body: bytes) -> bytes:
    """The raw HMAC-SHA256 a `v1` entry carries in base64."""
    return hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()


def sign(keys: Sequence[bytes], message_id: str, timestamp: int, body: bytes) -> str:
    """A `webhook-signature` header value, one `v1,` entry per key (tests and drills send with it)."""
    stamp = str(timestamp)
    return " ".join("v1," + base64.b64encode(signature(k, message_id, stamp, body)).decode() for k in keys)


def verify(
    keys: Sequence[bytes],
    message_id: str,
    timestamp: str,
    signature_header: str,
    body: bytes,
    *,
    now: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> None:
    """Return when one `v1` entry matches one key and the timestamp is fresh; raise otherwise."""
    if not message_id:
        raise WebhookVerificationError("missing webhook-id")
    if not timestamp.isascii() or not timestamp.isdigit():
        raise WebhookVerificationError("missing or malformed webhook-timestamp")
    if abs(now - int(timestamp)) > tolerance_s:
        raise WebhookVerificationError("webhook-timestamp outside the tolerance window")
    offered = _v1_entries(signature_header)
    if not offered:
        raise WebhookVerificationError("no v1 signature in webhook-signature")
    if not keys:
        raise WebhookVerificationError("no webhook secret configured")
    expected = [signature(key, message_id, timestamp, body) for key in keys]
    matched = False
    for candidate in offered:
        for wanted in expected:
            matched |= hmac.compare_digest(candidate, wanted)  # no short cut: same work either way
    if not matched:
        raise WebhookVerificationError("no signature matches a configured secret")


def _v1_entries(header: str) -> list[bytes]:
    """The decoded `v1` signatures of a header; other versions and undecodable entries are skipped."""
    out: list[bytes] = []
    for entry in header.split()[:MAX_SIGNATURES]:
        version, _, value = entry.partition(",")
        if version != "v1" or not value:
            continue
        try:
            out.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            continue
    return out
