"""The work-order system used directly, as its own staff would: file an order and move it along,
so a test can watch the change travel back through webhooks to the BFF's subscribers."""

from __future__ import annotations

import httpx


def file_order(workorders_url: str, customer_no: int, description: str, grid_code: str) -> str:
    """A leak order (`LS`) for the customer; its order number."""
    body = {
        "type": "LS",
        "description": description,
        "cust_code": f"KH-{customer_no:08d}",
        "grid_code": grid_code,
    }
    r = httpx.post(f"{workorders_url}/wo/api/orders", json=body)
    r.raise_for_status()
    return str(r.json()["order_no"])


def move_order(workorders_url: str, order_no: str, to: str) -> None:
    """The crew moves the order to status `to` (the vendor's code, e.g. "03")."""
    r = httpx.post(f"{workorders_url}/wo/api/orders/{order_no}/transition", json={"to": to})
    r.raise_for_status()
