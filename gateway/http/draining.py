"""Readiness goes false before the socket closes: the first SIGTERM marks the replica not ready and
only `delay_s` later hands the signal to the server, which then stops accepting and drains.

Why: uvicorn answers SIGTERM by closing its listening socket at once, so a balancer that watches
`/readyz` (Hive Gateway's health checks, HAProxy, a Kubernetes Service whose endpoints lag the
pod's termination by a second or two) never sees this replica say "not ready"; it sees refused
connections, and the calls it had already routed here fail. With the delay, the replica keeps
serving everything it is sent while `/readyz` answers 503 `not_ready`; the balancer takes it out,
then the server drains (in-flight requests finish, subscribers are told 1012 "service restart" and
reconnect elsewhere) and the lifespan closes the clients.

A second SIGTERM, or SIGINT (a person at a terminal), skips what is left of the wait. Installed with
`signal.signal` on top of the server's own handler, which it calls later (the server restores its
handlers when it stops); outside the main thread, or with no callable handler to defer to (a test's
in-process app), nothing is installed.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

logger = logging.getLogger("tidegate.draining")

Handler = Callable[[int, FrameType | None], object]


class Drain:
    """Defers the server's SIGTERM handler by `delay_s`, calling `not_ready` first."""

    def __init__(self, not_ready: Callable[[], None], delay_s: float) -> None:
        self._not_ready = not_ready
        self._delay_s = delay_s
        self._server_handlers: dict[int, Handler] = {}
        self._pending: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def install(self) -> bool:
        """Take SIGTERM and SIGINT over from the server; False when there is nothing to defer to."""
        if self._delay_s <= 0 or threading.current_thread() is not threading.main_thread():
            return False
        self._loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            current = signal.getsignal(sig)
            if callable(current):
                self._server_handlers[sig] = current
                signal.signal(sig, self._on_signal)
        return bool(self._server_handlers)

    def uninstall(self) -> None:
        """Give the signals back to the server (ours only: the server may have restored its own)."""
        for sig, handler in self._server_handlers.items():
            if signal.getsignal(sig) == self._on_signal:
                signal.signal(sig, handler)
        self._server_handlers.clear()
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

    def _on_signal(self, sig: int, frame: FrameType | None) -> None:
        # Runs in the main thread between bytecodes: only an attribute write and a thread-safe
        # wake-up of the loop here; the server's handler runs later, in the loop.
        self._not_ready()
        assert self._loop is not None
        if sig == signal.SIGTERM and self._pending is None:
            logger.info("SIGTERM: not ready now, closing the socket in %.1f s", self._delay_s)
            self._loop.call_soon_threadsafe(self._defer, sig)
        else:
            self._loop.call_soon_threadsafe(self._hand_over, sig)

    def _defer(self, sig: int) -> None:
        assert self._loop is not None
        if self._pending is None:
            self._pending = self._loop.call_later(self._delay_s, self._hand_over, sig)

    def _hand_over(self, sig: int) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        handler = self._server_handlers.get(sig) or self._server_handlers.get(signal.SIGTERM)
        if handler is not None:
            handler(sig, None)
