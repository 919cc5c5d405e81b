"""Standard Webhooks signatures as the work-order system sends them (https://www.standardwebhooks.com).

`webhook-signature` is `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one entry per secret
(space-separated) so a receiver can rotate secrets without losing a delivery; each entry is computed
by the specification's reference library (`standardwebhooks`). Secrets are written
`whsec_<base64 of 24-64 random bytes>` and checked strictly here, since the library would take a
secret without its prefix or with invalid base64 and sign with whatever it decoded. The simulator
signs on its own: it is another company's system and shares no code with the BFF that verifies it.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from standardwebhooks import Webhook

PREFIX = "whsec_"
MIN_KEY_BYTES, MAX_KEY_BYTES = 24, 64


def decode_secret(secret: str) -> bytes:
    """The key bytes of a `whsec_...` secret; ValueError when it is not one."""
    if not secret.startswith(PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    try:
        key = base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except binascii.Error as exc:
        raise ValueError("a webhook secret is whsec_ followed by base64") from exc
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise ValueError(f"a webhook secret holds {MIN_KEY_BYTES}-{MAX_KEY_BYTES} bytes, not {len(key)}")
    return key


def sign(keys: Sequence[bytes], message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header for this attempt: one `v1,` entry per key."""
    signed_at = datetime.fromtimestamp(timestamp, UTC)
    return " ".join(Webhook(key).sign(message_id, signed_at, body) for key in keys)


def new_message_id() -> str:
    """A delivery's `webhook-id`: the same on every retry and duplicate of one event."""
    return "msg_" + secrets.token_urlsafe(18)
