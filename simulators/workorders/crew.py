"""The field crew: moves open orders along their lifecycle on a schedule, so the demo shows live changes.

Every `interval_ms` it takes one step on one open order: orders made through the API since start-up
first (the ones somebody is watching), else any open order with a worker. A step follows the
happy path (派单 → 接单 → 施工中 → 完工 → 回访 → 归档), sometimes by way of 挂起, through the same
`transition` the REST API uses, so the outbox hears of it the same way.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from simulators.workorders.store import Order, OrderError, OrderStore

NEXT = {"01": "02", "02": "03", "03": "05", "04": "05", "05": "06", "06": "07", "07": "08", "11": "02"}
HOLDABLE = ("03", "05")  # where a crew may have to stop and wait (挂起)
REMARKS = {"02": "派单", "03": "网格员已接单", "04": "待料, 暂停施工", "05": "到场施工", "06": "修复完成"}
REMARKS |= {"07": "电话回访, 用户满意", "08": "归档"}
IDLE_WAIT_S = 1.0


class CrewConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    interval_ms: int = Field(default=0, ge=0, le=3_600_000, description="one step every so often; 0 = off")
    hold_rate: float = Field(default=0.1, ge=0, le=1, description="a step into 挂起 instead of onwards")


class CrewStats:
    def __init__(self) -> None:
        self.steps = 0

    def reset(self) -> None:
        self.steps = 0

    def as_json(self) -> dict[str, Any]:
        return {"steps": self.steps}


class FieldCrew:
    def __init__(self, store: OrderStore, rng: random.Random, config: CrewConfig | None = None) -> None:
        self.store = store
        self.rng = rng
        self.config = config or CrewConfig()
        self.stats = CrewStats()
        self.changed = asyncio.Event()  # the schedule changed: stop waiting on the old one

    def reconfigure(self, config: CrewConfig) -> None:
        self.config = config
        self.changed.set()

    async def run(self) -> None:
        while True:
            interval = self.config.interval_ms
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), interval / 1000 if interval else IDLE_WAIT_S)
                continue  # a new schedule: start counting again
            except TimeoutError:
                pass
            if interval:
                self.step()

    def step(self) -> Order | None:
        """One status change on one open order; None when there is nothing to do."""
        order = self._pick()
        if order is None:
            return None
        target = NEXT[order.status]
        if order.status in HOLDABLE and self.rng.random() < self.config.hold_rate:
            target = "04"
        step = {"to": target, "operator": order.worker_id or "crew", "remark": REMARKS[target]}
        try:
            self.store.transition(order.order_no, step)
        except OrderError:
            return None
        self.stats.steps += 1
        return order

    def _pick(self) -> Order | None:
        new = [o for n in self.store.created_here if self._workable(o := self.store.orders[n])]
        if new:
            return self.rng.choice(new)
        rest = [o for o in self.store.orders.values() if self._workable(o)]
        return self.rng.choice(rest) if rest else None

    @staticmethod
    def _workable(order: Order) -> bool:
        return order.status in NEXT and order.worker_id is not None
