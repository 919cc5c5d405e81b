"""Standard Webhooks checks: the specification's own vector, one worked by hand, the reference library's
own verify and sign both ways, rotation and the window."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook
from standardwebhooks import WebhookVerificationError as LibraryVerificationError

from gateway.live.webhook_signature import (
    WebhookVerificationError,
    decode_secret,
    parse_secrets,
    sign,
    verify,
)
from simulators.workorders.signing import decode_secret as sim_decode
from simulators.workorders.signing import sign as sim_sign

# The test vector published with the Standard Webhooks specification (and its reference libraries).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

KEY_A = b"A" * 32
KEY_B = b"B" * 32
SECRET_A = "whsec_" + base64.b64encode(KEY_A).decode()
SECRET_B = "whsec_" + base64.b64encode(KEY_B).decode()
NOW = 1_780_000_000
BODY = b'{"type":"order.status_changed","order_no":"GD2026112600001","status":"05","seq":4}'


def by_hand(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The spec's recipe spelled out: HMAC-SHA256 over "{id}.{timestamp}.{body}", base64, prefixed v1,"""
    content = message_id.encode() + b"." + str(timestamp).encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def test_signs_the_specification_vector() -> None:
    assert sign([decode_secret(SPEC_SECRET)], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_verifies_the_specification_vector() -> None:
    verify(
        [decode_secret(SPEC_SECRET)],
        SPEC_ID,
        str(SPEC_TIMESTAMP),
        SPEC_SIGNATURE,
        SPEC_BODY,
        now=SPEC_TIMESTAMP + 10,
    )


def test_signs_what_the_recipe_computes_by_hand() -> None:
    assert sign([KEY_A], "msg_1", NOW, BODY) == by_hand(KEY_A, "msg_1", NOW, BODY)
    assert sign([KEY_A], "msg_1", NOW, BODY) != by_hand(KEY_A, "msg_2", NOW, BODY)


def test_accepts_a_delivery_signed_by_hand() -> None:
    verify([KEY_A], "msg_1", str(NOW), by_hand(KEY_A, "msg_1", NOW, BODY), BODY, now=NOW)


@pytest.mark.parametrize(
    ("message_id", "timestamp", "body"),
    [
        ("msg_1", NOW, BODY.replace(b'"05"', b'"08"')),  # body tampered with
        ("msg_2", NOW, BODY),  # another id: the signature does not carry over
        ("msg_1", NOW + 1, BODY),  # another timestamp
    ],
)
def test_refuses_anything_the_signature_does_not_cover(message_id: str, timestamp: int, body: bytes) -> None:
    header = by_hand(KEY_A, "msg_1", NOW, BODY)
    with pytest.raises(WebhookVerificationError, match="no signature matches"):
        verify([KEY_A], message_id, str(timestamp), header, body, now=NOW)


def test_refuses_a_signature_made_with_an_unknown_secret() -> None:
    with pytest.raises(WebhookVerificationError, match="no signature matches"):
        verify([KEY_A], "msg_1", str(NOW), by_hand(KEY_B, "msg_1", NOW, BODY), BODY, now=NOW)


def test_rotation_either_side_accepts_the_other() -> None:
    """The sender signs with old and new during a rotation; a receiver holding either one accepts."""
    both = sign([KEY_A, KEY_B], "msg_1", NOW, BODY)
    assert both == f"{by_hand(KEY_A, 'msg_1', NOW, BODY)} {by_hand(KEY_B, 'msg_1', NOW, BODY)}"
    verify([KEY_A], "msg_1", str(NOW), both, BODY, now=NOW)
    verify([KEY_B], "msg_1", str(NOW), both, BODY, now=NOW)
    # ... and a receiver holding both accepts a sender that still signs with the old one only.
    verify([KEY_B, KEY_A], "msg_1", str(NOW), by_hand(KEY_A, "msg_1", NOW, BODY), BODY, now=NOW)


def test_other_versions_and_garbage_entries_are_skipped() -> None:
    good = by_hand(KEY_A, "msg_1", NOW, BODY)
    header = f"v1a,c29tZQ== v1,!!notbase64!! v2,{good[3:]} {good}"
    verify([KEY_A], "msg_1", str(NOW), header, BODY, now=NOW)
    with pytest.raises(WebhookVerificationError, match="no v1 signature"):
        verify([KEY_A], "msg_1", str(NOW), f"v2,{good[3:]}", BODY, now=NOW)


@pytest.mark.parametrize(("skew", "accepted"), [(-300, True), (300, True), (-301, False), (301, False)])
def test_five_minute_window_either_way(skew: int, accepted: bool) -> None:
    stamp = NOW + skew
    header = by_hand(KEY_A, "msg_1", stamp, BODY)
    if accepted:
        verify([KEY_A], "msg_1", str(stamp), header, BODY, now=NOW)
        return
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify([KEY_A], "msg_1", str(stamp), header, BODY, now=NOW)


@pytest.mark.parametrize(
    ("message_id", "timestamp", "header", "reason"),
    [
        ("", str(NOW), "v1,x", "missing webhook-id"),
        ("msg_1", "", "v1,x", "webhook-timestamp"),
        ("msg_1", "17e8", "v1,x", "webhook-timestamp"),
        ("msg_1", "١٧٨٠٠٠٠٠٠٠", "v1,x", "webhook-timestamp"),  # Unicode digits are not Unix seconds
        ("msg_1", "1" * 5000, "v1,x", "webhook-timestamp"),  # int() would raise ValueError: a 500
        ("msg_1", "000" + str(NOW), "v1,x", "webhook-timestamp"),  # 13 digits, leading zeros
        ("msg_1", str(NOW), "", "no v1 signature"),
    ],
)
def test_missing_or_malformed_headers(message_id: str, timestamp: str, header: str, reason: str) -> None:
    with pytest.raises(WebhookVerificationError, match=reason):
        verify([KEY_A], message_id, timestamp, header, BODY, now=NOW)


def test_no_secret_configured_refuses_everything() -> None:
    with pytest.raises(WebhookVerificationError, match="no webhook secret"):
        verify([], "msg_1", str(NOW), by_hand(KEY_A, "msg_1", NOW, BODY), BODY, now=NOW)


def test_secrets_parse_comma_separated_and_refuse_malformed_ones() -> None:
    assert parse_secrets(f" {SECRET_A} , {SECRET_B},") == [KEY_A, KEY_B]
    assert parse_secrets("") == []
    for bad in ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_c2hvcnQ="):
        with pytest.raises(ValueError) as caught:
            parse_secrets(bad)
        assert bad not in str(caught.value)  # a near-miss may be a real secret: never echoed


# -- against the reference library's own verify and sign -------------------------------------------


def test_the_reference_librarys_verify_accepts_what_we_sign() -> None:
    """`Webhook.verify` reads the wall clock (fixed 5 minutes), so this delivery is stamped now."""
    stamp = int(time.time())
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign([KEY_B, KEY_A], "msg_1", stamp, BODY),  # rotation: either entry
    }
    Webhook(SECRET_A).verify(BODY, headers, json_parse=False)
    with pytest.raises(LibraryVerificationError):
        Webhook(SECRET_A).verify(BODY + b" ", headers, json_parse=False)


def test_we_accept_what_the_reference_library_signs() -> None:
    made = Webhook(SECRET_A).sign("msg_1", datetime.fromtimestamp(NOW, UTC), BODY)
    assert made == by_hand(KEY_A, "msg_1", NOW, BODY)
    verify([KEY_B, KEY_A], "msg_1", str(NOW), made, BODY, now=NOW)
    with pytest.raises(WebhookVerificationError, match="no signature matches"):
        verify([KEY_B], "msg_1", str(NOW), made, BODY, now=NOW)


def test_the_simulators_signer_and_ours_agree() -> None:
    """Both sides sign through the library but parse secrets on their own: the same bytes come out."""
    assert sim_decode(SPEC_SECRET) == decode_secret(SPEC_SECRET)
    assert sim_sign([KEY_A, KEY_B], "msg_1", NOW, BODY) == sign([KEY_A, KEY_B], "msg_1", NOW, BODY)
    verify([KEY_B], "msg_1", str(NOW), sim_sign([KEY_A, KEY_B], "msg_1", NOW, BODY), BODY, now=NOW)


def test_a_body_that_is_not_utf8_is_signed_byte_for_byte() -> None:
    body = b"\xff\xfe" + BODY
    header = sign([KEY_A], "msg_1", NOW, body)
    assert header == by_hand(KEY_A, "msg_1", NOW, body)
    verify([KEY_A], "msg_1", str(NOW), header, body, now=NOW)


@pytest.mark.parametrize("stamp", [f"{NOW}.0", f"{NOW}.9", f"{NOW:e}", f" {NOW}"])
def test_a_timestamp_the_library_would_read_with_float_is_refused(stamp: str) -> None:
    """`float()` takes these, and the library would then check a signature over the integer part."""
    with pytest.raises(WebhookVerificationError, match="webhook-timestamp"):
        verify([KEY_A], "msg_1", stamp, by_hand(KEY_A, "msg_1", NOW, BODY), BODY, now=NOW)
