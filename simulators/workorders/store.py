"""The work-order system's state: orders, their lifecycle, and dispatch to a grid's worker.

Create is not idempotent by itself: a retried create without `client_ref` makes a second order. A
`client_ref` (the caller's external reference, as Maximo's EXTERNALREFID) is unique, as in most ticket
systems: a create under one already used is refused with 409 and the existing order's number, and
`GET /orders?client_ref=` finds the order again. `client_sig` is stored with it, opaque (the caller's
fingerprint of what it asked for). Reads return numeric type codes; create takes letter codes.

An order may be a child task of another (`parent_no`, as Maximo's PARENT work order): an outage's
repair is one master order and each valve closure a task under it. A child cannot have children, and
`GET /orders?parent_no=` lists a master's tasks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from simulators.world import World
from simulators.world.model import Grid
from simulators.world.workorders import (
    CREATE_TYPES,
    SHANGHAI,
    STATUS,
    TRANSITIONS,
    TYPE_CODES,
    URGENCY,
    order_no,
)


class OrderError(Exception):
    """Refused by the system; `errcode` is the vendor's numeric code."""

    def __init__(self, errcode: int, message: str, status: int, **details: str) -> None:
        super().__init__(message)
        self.errcode = errcode
        self.message = message
        self.status = status
        self.details = details  # more keys of the error body, e.g. the existing order's number


@dataclass
class Order:
    order_no: str
    cust_code: str
    acct_no: str | None
    type_code: str
    urgency: str
    description: str
    address: str
    lon: float | None
    lat: float | None
    grid_code: str | None
    worker_id: str | None
    status: str
    created_at: int
    updated_at: int
    client_ref: str | None = None
    client_sig: str | None = None
    reporter_phone: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    parent_no: str | None = None


# Told of every status an order takes from now on: the order, and the index of its new history entry.
ChangeListener = Callable[["Order", int], None]


def cust_code(customer_no: int) -> str:
    return f"KH-{customer_no:08d}"


class OrderStore:
    def __init__(self, world: World) -> None:
        self.world = world
        self.workers = {g.worker.worker_id: g for g in world.grids}
        self.orders: dict[str, Order] = {}
        for seed in world.work_orders:
            self.orders[seed.order_no] = Order(
                order_no=seed.order_no,
                cust_code=cust_code(seed.customer_no),
                acct_no=seed.account_no,
                type_code=seed.type_code,
                urgency=seed.urgency,
                description=seed.description,
                address=seed.address,
                lon=seed.location[0],
                lat=seed.location[1],
                grid_code=seed.grid_code,
                worker_id=seed.worker_id,
                status=seed.status,
                created_at=seed.created_ms,
                updated_at=seed.updated_ms,
                history=[
                    {"status": s, "at": at, "operator": "system", "remark": ""} for s, at in seed.history
                ],
            )
        self.by_cust: dict[str, list[str]] = {}
        for order in self.orders.values():
            self.by_cust.setdefault(order.cust_code, []).append(order.order_no)
        self._serial = len(self.orders)
        self.listeners: list[ChangeListener] = []
        self.created_here: list[str] = []  # orders made through the API since start-up, oldest first
        self.by_ref: dict[str, str] = {}  # client_ref -> order number: one order per reference
        self.by_parent: dict[str, list[str]] = {}  # master order -> its child tasks, in filing order

    def get(self, number: str) -> Order:
        order = self.orders.get(number)
        if order is None:
            raise OrderError(40401, f"工单不存在: {number}", 404)
        return order

    def create(self, body: dict[str, Any]) -> Order:
        letter = body.get("type")
        if letter not in CREATE_TYPES:
            raise OrderError(40001, f"工单类型无效: {letter!r}; 可选 {sorted(CREATE_TYPES)}", 400)
        urgency = str(body.get("urgency", "3"))
        if urgency not in URGENCY:
            raise OrderError(40002, f"紧急程度无效: {urgency!r}", 400)
        desc = body.get("description")
        if not isinstance(desc, str) or not desc.strip() or len(desc) > 2000:
            raise OrderError(40003, "description 必填, 最长 2000 字", 400)
        code = body.get("cust_code")
        if code is not None and (not isinstance(code, str) or not code.startswith("KH-")):
            raise OrderError(40004, f"客户编号格式错误: {code!r}", 400)
        acct = body.get("acct_no")
        if acct is not None and acct not in self.world.account_by_no:
            raise OrderError(40005, f"户号不存在: {acct!r}", 400)
        lon, lat = body.get("lon"), body.get("lat")
        if (lon is None) != (lat is None) or not all(
            isinstance(v, int | float) for v in (lon, lat) if v is not None
        ):
            raise OrderError(40006, "lon 与 lat 须同时提供且为数字", 400)
        ref, sig = body.get("client_ref"), body.get("client_sig")
        if ref is not None and (not isinstance(ref, str) or not 1 <= len(ref) <= 64):
            raise OrderError(40011, f"client_ref 须为 1-64 位字符串: {ref!r}", 400)
        if sig is not None and (not isinstance(sig, str) or len(sig) > 128):
            raise OrderError(40012, "client_sig 最长 128 位", 400)
        parent = body.get("parent_no")
        if parent is not None:
            master = self.orders.get(parent) if isinstance(parent, str) else None
            if master is None:
                raise OrderError(40013, f"主工单不存在: {parent!r}", 400)
            if master.parent_no is not None:
                raise OrderError(40014, f"子工单不能再挂子工单: {parent}", 400)
        grid = self._dispatch_grid(body)
        if ref is not None and ref in self.by_ref:
            number = self.by_ref[ref]
            raise OrderError(40903, f"client_ref 已存在: {ref} -> {number}", 409, order_no=number)
        now = int(time.time() * 1000)
        self._serial += 1
        status = "02" if grid else "01"
        history = [{"status": "01", "at": now, "operator": "api", "remark": "受理"}]
        if grid:
            history.append(
                {"status": "02", "at": now, "operator": "api", "remark": f"派单至{grid.worker.name}"}
            )
        order = Order(
            order_no=order_no(datetime.fromtimestamp(now / 1000, SHANGHAI), self._serial),
            cust_code=code or "",
            acct_no=acct,
            type_code=CREATE_TYPES[letter],
            urgency=urgency,
            description=desc.strip(),
            address=str(body.get("address") or ""),
            lon=lon,
            lat=lat,
            grid_code=grid.code if grid else None,
            worker_id=grid.worker.worker_id if grid else None,
            status=status,
            created_at=now,
            updated_at=now,
            client_ref=ref,
            client_sig=sig,
            reporter_phone=body.get("reporter_phone"),
            history=history,
            parent_no=parent,
        )
        self.orders[order.order_no] = order
        self.by_cust.setdefault(order.cust_code, []).append(order.order_no)
        if ref is not None:
            self.by_ref[ref] = order.order_no
        if parent is not None:
            self.by_parent.setdefault(parent, []).append(order.order_no)
        self.created_here.append(order.order_no)
        for index in range(len(order.history)):
            self._changed(order, index)
        return order

    def _dispatch_grid(self, body: dict[str, Any]) -> Grid | None:
        worker, grid_code = body.get("worker_id"), body.get("grid_code")
        if worker is not None:
            if worker not in self.workers:
                raise OrderError(40007, f"网格员不存在: {worker!r}", 400)
            grid = self.workers[worker]
            if grid_code is not None and grid_code != grid.code:
                raise OrderError(40008, f"网格员 {worker} 不属于网格 {grid_code}", 400)
            return grid
        if grid_code is not None:
            if grid_code not in self.world.grid_by_code:
                raise OrderError(40009, f"网格不存在: {grid_code!r}", 400)
            return self.world.grid_by_code[grid_code]
        return None

    def transition(self, number: str, body: dict[str, Any]) -> Order:
        order = self.get(number)
        target = body.get("to")
        if target not in STATUS:
            raise OrderError(40010, f"目标状态无效: {target!r}", 400)
        if target not in TRANSITIONS[order.status]:
            raise OrderError(40901, f"状态流转不允许: {order.status} -> {target}", 409)
        if target == "02" and order.worker_id is None:
            raise OrderError(40902, "派单需先指定网格员 (worker_id)", 409)
        now = int(time.time() * 1000)
        order.status = target
        order.updated_at = max(now, order.updated_at + 1)
        order.history.append(
            {
                "status": target,
                "at": order.updated_at,
                "operator": str(body.get("operator", "")),
                "remark": str(body.get("remark", "")),
            }
        )
        self._changed(order, len(order.history) - 1)
        return order

    def _changed(self, order: Order, index: int) -> None:
        for listener in self.listeners:
            listener(order, index)

    def query(
        self,
        custs: set[str],
        accts: set[str],
        statuses: set[str],
        client_ref: str | None,
        parent_no: str | None = None,
    ) -> list[Order]:
        if client_ref is not None:
            found = self.by_ref.get(client_ref)
            candidates = [self.orders[found]] if found is not None else []
        elif parent_no is not None:
            candidates = [self.orders[n] for n in self.by_parent.get(parent_no, [])]
        elif custs:
            candidates = [self.orders[n] for c in custs for n in self.by_cust.get(c, [])]
        else:
            candidates = list(self.orders.values())
        out = []
        for order in candidates:
            if accts and order.acct_no not in accts:
                continue
            if statuses and order.status not in statuses:
                continue
            if client_ref is not None and order.client_ref != client_ref:
                continue
            out.append(order)
        out.sort(key=lambda o: o.created_at, reverse=True)
        return out


def order_json(store: OrderStore, order: Order) -> dict[str, Any]:
    grid = store.world.grid_by_code.get(order.grid_code or "")
    worker = grid.worker if grid and order.worker_id else None
    return {
        "order_no": order.order_no,
        "cust_code": order.cust_code,
        "acct_no": order.acct_no,
        "type_code": order.type_code,
        "type_name": TYPE_CODES[order.type_code],
        "urgency": order.urgency,
        "status": order.status,
        "status_name": STATUS[order.status],
        "description": order.description,
        "address": order.address,
        "lon": order.lon,
        "lat": order.lat,
        "grid_code": order.grid_code,
        "worker_id": order.worker_id,
        "worker_name": worker.name if worker else None,
        "worker_mobile": worker.mobile if worker else None,
        "client_ref": order.client_ref,
        "client_sig": order.client_sig,
        "parent_no": order.parent_no,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "history": order.history,
    }
