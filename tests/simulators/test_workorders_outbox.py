"""The work-order outbox in process: what is queued, when it is due, retries, duplicates, hold-backs."""

from __future__ import annotations

import json
import random

import pytest

from simulators.workorders.outbox import Outbox
from simulators.workorders.store import Order
from simulators.workorders.webhook_config import WebhookConfig
from tests.support.clocks import FakeClock

SECRET = "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="  # 32 x "A"


def order(status_path: tuple[str, ...] = ("01", "02", "03")) -> Order:
    return Order(
        order_no="GD2026112600042",
        cust_code="KH-00000042",
        acct_no="0010000008",
        type_code="101",
        urgency="2",
        description="漏水",
        address="",
        lon=None,
        lat=None,
        grid_code="WG-01",
        worker_id="W001",
        status=status_path[-1],
        created_at=1_780_000_000_000,
        updated_at=1_780_000_000_000 + len(status_path),
        history=[
            {"status": s, "at": 1_780_000_000_000 + i, "operator": "W001", "remark": ""}
            for i, s in enumerate(status_path)
        ],
    )


def outbox(clock: FakeClock, **knobs: object) -> tuple[Outbox, list[WebhookConfig]]:
    holder = [WebhookConfig(url="http://127.0.0.1:1/hook", secrets=[SECRET], **knobs)]
    return Outbox(lambda: holder[0], random.Random(1), clock=clock), holder


def test_an_event_carries_the_vendor_shape_and_the_orders_own_sequence() -> None:
    box, _ = outbox(FakeClock(100.0), reorder_rate=0.0)
    box.on_change(order(), 2)
    delivery = box.take_due()
    assert delivery is not None and delivery.seq == 3 and delivery.message_id.startswith("msg_")
    assert json.loads(delivery.body) == {
        "type": "order.status_changed",
        "order_no": "GD2026112600042",
        "cust_code": "KH-00000042",
        "acct_no": "0010000008",
        "status": "03",
        "status_name": "接单",
        "prev_status": "02",
        "seq": 3,
        "changed_at": 1_780_000_000_002,
        "operator": "W001",
        "remark": "",
        "worker_id": "W001",
    }


def test_nothing_is_queued_without_a_subscriber() -> None:
    box, holder = outbox(FakeClock(100.0))
    holder[0] = WebhookConfig()
    box.on_change(order(), 0)
    assert len(box) == 0 and box.stats.as_json()["no_endpoint"] == 1


def test_failures_come_back_after_a_growing_capped_backoff() -> None:
    clock = FakeClock(100.0)
    box, _ = outbox(clock, reorder_rate=0.0, backoff_base_ms=100, backoff_cap_ms=800)
    box.on_change(order(), 0)
    waits = []
    for attempt in range(1, 7):
        delivery = box.take_due()
        assert delivery is not None
        delivery.attempts = attempt
        box.failed(delivery, "http_503")
        assert box.take_due() is None  # not due again at once
        wait = box.seconds_to_next()
        assert wait is not None
        waits.append(wait)
        clock.now += wait
    steps = [0.1, 0.2, 0.4, 0.8, 0.8, 0.8]
    assert all(step / 2 <= w <= step for w, step in zip(waits, steps, strict=True)), waits
    assert box.stats.retries == 6 and box.stats.failures == {"http_503": 6}


def test_held_back_events_let_later_ones_overtake_them() -> None:
    clock = FakeClock(100.0)
    box, holder = outbox(clock, reorder_rate=1.0, hold_back_ms=1_000)
    box.on_change(order(), 1)  # held back
    holder[0] = holder[0].model_copy(update={"reorder_rate": 0.0})
    box.on_change(order(), 2)  # sent at once
    first = box.take_due()
    assert first is not None and first.seq == 3 and box.take_due() is None
    box.acked(first)
    clock.now += 1.0
    late = box.take_due()
    assert late is not None and late.seq == 2
    box.acked(late)
    assert (box.stats.held_back, box.stats.out_of_order_acks) == (1, 1)


def test_acknowledged_events_are_sometimes_sent_again_with_the_same_id() -> None:
    clock = FakeClock(100.0)
    box, _ = outbox(clock, reorder_rate=0.0, duplicate_rate=1.0, hold_back_ms=0)
    box.on_change(order(), 0)
    first = box.take_due()
    assert first is not None
    box.acked(first)
    again = box.take_due()
    assert again is not None and again.copy
    assert (again.message_id, again.body) == (first.message_id, first.body)
    box.acked(again)
    assert box.take_due() is None  # a copy is never copied again
    assert (box.stats.duplicates, box.stats.acks) == (1, 2)


def test_a_full_outbox_drops_the_oldest_and_counts_it() -> None:
    clock = FakeClock(100.0)
    box, _ = outbox(clock, reorder_rate=0.0)
    box.max_pending = 2
    for index in range(3):
        box.on_change(order(), index)
    seqs = []
    while (d := box.take_due()) is not None:
        seqs.append(d.seq)
    assert seqs == [2, 3] and box.stats.dropped == 1


@pytest.mark.parametrize(
    "knobs",
    [
        {"url": "ftp://x"},
        {"secrets": ["not-a-whsec"]},
        {"secrets": ["whsec_c2hvcnQ="]},
        {"backoff_base_ms": 1000, "backoff_cap_ms": 10},
        {"duplicate_rate": 2},
    ],
)
def test_bad_knobs_are_refused(knobs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        WebhookConfig.model_validate(knobs)


def test_secrets_never_leave_through_the_admin_view() -> None:
    shown = WebhookConfig(url="http://x", secrets=[SECRET]).public()
    assert shown["secrets"] == ["whsec_***"] and SECRET not in json.dumps(shown)
