"""Standard Webhooks signature checks (https://www.standardwebhooks.com): pure functions, no I/O.

A delivery carries `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`, a
space-separated list of `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`: during a secret
rotation the sender signs with old and new secrets and the receiver accepts either. Secrets are
written `whsec_<base64 of 24-64 bytes>`.

The signature itself is computed by the specification's reference library (`standardwebhooks`),
the same one the work-order simulator signs with. Its `Webhook.verify` is not called, because it
does not check what this endpoint promises:

- its window is fixed at 5 minutes against the wall clock; ours is `TIDEGATE_WORKORDERS_WEBHOOK_
  TOLERANCE_S` against an injected clock (tests, drills);
- it reads `webhook-timestamp` with `float()`, so `17e8`, Unicode digits or `1614265330.9` (which it
  then signs as `1614265330`) pass; ours must be ASCII digits, exactly the string that was signed;
- it holds one secret; a rotation holds several, each tried against every offered entry;
- it parses secrets leniently (no `whsec_` needed, invalid base64 skipped, any length); ours are
  refused at start-up, naming the variable and never echoing the value.

So this module checks the headers and the window, asks the library for the expected `v1` entry of
each secret, and compares every offered entry with every expected one in constant time, with no
early exit.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
MIN_KEY_BYTES, MAX_KEY_BYTES = 24, 64
DEFAULT_TOLERANCE_S = 300
MAX_SIGNATURES = 10  # entries looked at in one header: a sender rotating needs two
MAX_TIMESTAMP_DIGITS = 12


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


def entry(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The `v1,<base64>` entry one key makes for this delivery, computed by the reference library."""
    return Webhook(key).sign(message_id, datetime.fromtimestamp(timestamp, UTC), body)


def sign(keys: Sequence[bytes], message_id: str, timestamp: int, body: bytes) -> str:
    """A `webhook-signature` header value, one `v1,` entry per key (tests and drills send with it)."""
    return " ".join(entry(key, message_id, timestamp, body) for key in keys)


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
    # At most 12 digits (year 33658): int() refuses strings past 4300 digits with a ValueError,
    # which must be a 401 like any other malformed header, never a 500.
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > MAX_TIMESTAMP_DIGITS:
        raise WebhookVerificationError("missing or malformed webhook-timestamp")
    if abs(now - int(timestamp)) > tolerance_s:
        raise WebhookVerificationError("webhook-timestamp outside the tolerance window")
    offered = [e.encode() for e in signature_header.split()[:MAX_SIGNATURES] if e.startswith("v1,")]
    if not offered:
        raise WebhookVerificationError("no v1 signature in webhook-signature")
    if not keys:
        raise WebhookVerificationError("no webhook secret configured")
    expected = [entry(key, message_id, int(timestamp), body).encode() for key in keys]
    matched = False
    for candidate in offered:
        for wanted in expected:
            matched |= hmac.compare_digest(candidate, wanted)  # no short cut: same work either way
    if not matched:
        raise WebhookVerificationError("no signature matches a configured secret")
