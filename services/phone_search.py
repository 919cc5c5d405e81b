"""`PhoneSearches`: billing's slow phone search, run beside the screen pop instead of inside it.

The CRM is the contact master and answers a phone lookup in tens of ms; when it knows nobody on the
number, billing's `QueryAccountsByPhone` (then `GetAccounts`) is the only other place the number may
be, and it takes longer than the 300 ms a screen pop has. Waiting for it inside the request turned
every unknown caller into `BACKEND_TIMEOUT` (and `/readyz` into degraded, since billing's last call
"failed"). So the search runs here as a task of its own, detached from the request's deadline and
bounded by its own (`budget_s`); the request waits for it only as long as its deadline allows and
answers "no match" when it is not done. If billing finds the caller later, `on_found` is told for
each call still waiting on that number (`services.late_match` binds the call and updates the pop).

Bounded: at most `max_running` searches at once (more answer "no match" at once, logged);
deduplicated: one search per number, whoever asks; cancelled when the last call waiting on it ends
(and no request is waiting). A request waits at most `wait_s` (and never past its deadline), so even
the ring-time pop, whose own budget is longer, says "no match" while the phone still rings.
A finished search is remembered for `remember_s`, so the agent's
answered-call pop and a replica's repeat do not ask billing again within the call.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field

from domain.ports import BillingPort
from domain.records import Account
from infra.deadline import detached_context
from infra.errors import BackendError

logger = logging.getLogger("tidegate.phone_search")

CallKey = tuple[str, str]  # (agent id, call id)
OnFound = Callable[[str, list[Account], set[CallKey]], Awaitable[None]]


@dataclass
class _Search:
    task: asyncio.Task[list[Account] | None]
    calls: set[CallKey] = field(default_factory=set)
    waiters: int = 0


class PhoneSearches:
    def __init__(
        self,
        *,
        budget_s: float = 5.0,
        wait_s: float = 0.25,
        max_running: int = 64,
        remember_s: float = 120.0,
        max_remembered: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.budget_s = budget_s
        self.wait_s = wait_s  # the most a request waits for a search (its deadline may allow less)
        self.max_running = max_running
        self.remember_s = remember_s
        self._max_remembered = max_remembered
        self._clock = clock
        self._running: dict[str, _Search] = {}
        self._done: OrderedDict[str, tuple[float, list[Account]]] = OrderedDict()
        self.on_found: OnFound | None = None
        self._followers: set[asyncio.Task[None]] = set()

    def known(self, number: str) -> list[Account] | None:
        """The accounts a finished search found on `number` (maybe none), while remembered."""
        found = self._done.get(number)
        if found is None:
            return None
        if found[0] <= self._clock():
            del self._done[number]
            return None
        return found[1]

    def running(self, number: str) -> bool:
        return number in self._running

    def start(
        self, billing: BillingPort, number: str, call: CallKey | None
    ) -> asyncio.Task[list[Account] | None] | None:
        """The search for `number` (started now, or the one already running), with `call` told when
        it finds someone; None when too many searches run already."""
        search = self._running.get(number)
        if search is None:
            if len(self._running) >= self.max_running:
                logger.warning("billing phone searches at capacity: a caller answers no match")
                return None
            task = asyncio.create_task(
                self._search(billing, number), name="billing-phone-search", context=detached_context()
            )
            search = self._running[number] = _Search(task)
            task.add_done_callback(lambda t: self._finished(number, t))
        if call is not None:
            search.calls.add(call)
        return search.task

    async def wait(
        self,
        task: asyncio.Task[list[Account] | None],
        number: str,
        patience_s: float | None,
        call: CallKey | None = None,
    ) -> list[Account] | None:
        """The search's accounts if it finishes within `patience_s` (None: its own budget), else None;
        the search goes on (for the calls waiting on it; and, bounded by its budget, to be `known` to
        a request asking again). A `call` that gets the answer here is not told it again as a late
        match."""
        search = self._running.get(number)
        if search is not None:
            search.waiters += 1
        try:
            done, _ = await asyncio.wait({task}, timeout=patience_s)
        finally:
            if search is not None:
                search.waiters -= 1
        if task not in done or task.cancelled():
            return None
        if search is not None and call is not None:
            search.calls.discard(call)  # before `_tell` looks (it yields once first)
        return task.result()

    def release(self, agent_id: str, call_id: str) -> None:
        """The agent no longer holds the call (ended, transferred away): its searches stop unless
        another call or request still waits on them."""
        key = (agent_id, call_id)
        for search in list(self._running.values()):
            if key in search.calls:
                search.calls.discard(key)
                if not search.calls and search.waiters == 0:
                    search.task.cancel()

    async def _search(self, billing: BillingPort, number: str) -> list[Account] | None:
        """billing's accounts on the number; None when billing could not answer (not remembered)."""
        try:
            async with asyncio.timeout(self.budget_s):
                return await billing.accounts_by_phone(number)
        except (BackendError, TimeoutError) as exc:
            logger.warning("billing phone search failed: %s", getattr(exc, "code", type(exc).__name__))
            return None

    def _finished(self, number: str, task: asyncio.Task[list[Account] | None]) -> None:
        search = self._running.pop(number, None)
        if task.cancelled() or task.exception() is not None:
            if not task.cancelled():
                logger.error("billing phone search crashed", exc_info=task.exception())
            return
        found = task.result()
        if found is None:
            return
        self._done[number] = (self._clock() + self.remember_s, found)
        self._done.move_to_end(number)
        while len(self._done) > self._max_remembered:
            self._done.popitem(last=False)
        if found and search is not None and search.calls and self.on_found is not None:
            follower = asyncio.create_task(self._tell(number, found, search.calls))
            self._followers.add(follower)
            follower.add_done_callback(self._followers.discard)

    async def _tell(self, number: str, found: list[Account], calls: set[CallKey]) -> None:
        """`calls` is the search's own set: a request that got the answer in time (woken in the same
        turn of the loop as this task) takes its call out before this yield ends."""
        await asyncio.sleep(0)
        if not calls or self.on_found is None:
            return
        try:
            await self.on_found(number, found, set(calls))
        except Exception:
            logger.exception("a late phone match could not be delivered")

    async def aclose(self) -> None:
        tasks = [s.task for s in self._running.values()] + list(self._followers)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError, Exception):
                await task
