"""Background work of a simulator (a field crew, a webhook sender), started inside the server's loop.

Simulators run uvicorn with lifespan off, so there is no start-up hook: the tasks start on the first
event the server hands the app, which is the launcher's own health check (or the lifespan start-up,
should a server send one). They run until the process ends; a task that crashes is logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger("sim.background")

Starter = Callable[[], Coroutine[Any, Any, None]]


class StartBackground:
    """ASGI middleware: start every `starters` coroutine once, on the first call, in the running loop."""

    def __init__(self, app: ASGIApp, starters: Sequence[Starter]) -> None:
        self.app = app
        self.starters = list(starters)
        self.tasks: list[asyncio.Task[None]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.tasks and self.starters:
            self.tasks = [asyncio.create_task(start(), name=start.__qualname__) for start in self.starters]
            for task in self.tasks:
                task.add_done_callback(_report)
        await self.app(scope, receive, send)


def _report(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("background task %s crashed", task.get_name(), exc_info=task.exception())
