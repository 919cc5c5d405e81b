"""Status-change events in the work-order system's own shape: what its webhooks carry.

Flat JSON in the vendor's style (snake_case, 2-digit status codes, `KH-` customer codes, epoch
milliseconds), with `seq`: the order's own sequence number of the change (its position in the
order's history, from 1), which a receiver uses to tell a late delivery from a newer state.
"""

from __future__ import annotations

import json
from typing import Any

from simulators.workorders.store import Order
from simulators.world.workorders import STATUS

STATUS_CHANGED = "order.status_changed"


def status_changed(order: Order, index: int) -> dict[str, Any]:
    """The event for the order's history entry at `index`."""
    entry = order.history[index]
    return {
        "type": STATUS_CHANGED,
        "order_no": order.order_no,
        "cust_code": order.cust_code,
        "acct_no": order.acct_no,
        "status": entry["status"],
        "status_name": STATUS[entry["status"]],
        "prev_status": order.history[index - 1]["status"] if index > 0 else None,
        "seq": index + 1,
        "changed_at": entry["at"],
        "operator": entry["operator"],
        "remark": entry["remark"],
        "worker_id": order.worker_id,
    }


def encode(event: dict[str, Any]) -> bytes:
    """The body exactly as signed and sent (UTF-8, compact, like every other answer of this system)."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
