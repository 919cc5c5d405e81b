"""`BatchingLoader` batches as aiodataloader's own `DataLoader` does: run side by side on one script
of loads spread over ticks, both make the same batches, in the same order, seen in the same context."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from types import SimpleNamespace
from typing import Any

import pytest
from aiodataloader import DataLoader

from services.loaders import BatchingLoader, EachLoader, KeyedLoader, Loaders

CALLER: ContextVar[str] = ContextVar("caller", default="nobody")


Log = list[tuple[tuple[int, ...], str]]


def recording(log: Log) -> Callable[[list[int]], Coroutine[Any, Any, list[Any]]]:
    """The batch function both loaders get: each batch's keys and the context it ran in."""

    async def batch_load_fn(keys: list[int]) -> list[Any]:
        log.append((tuple(keys), CALLER.get()))
        await asyncio.sleep(0)
        return [ValueError(f"no {k}") if k < 0 else k * 10 for k in keys]

    return batch_load_fn


async def _script(loader: DataLoader[int, int]) -> list[object]:
    """Loads on ticks 0, 1, 2, 3 and 6 (by chained callbacks), a repeated key, a failing key."""
    loop = asyncio.get_running_loop()
    futures: list[asyncio.Future[int]] = []

    def load(*keys: int) -> None:
        futures.extend(loader.load(k) for k in keys)

    def later(ticks: int, *keys: int) -> None:
        if ticks == 0:
            load(*keys)
        else:
            loop.call_soon(later, ticks - 1, *keys)

    CALLER.set("first")
    load(1, 2)
    CALLER.set("second")
    later(1, 3, 1)
    later(2, 4)
    later(3, 5, -6)
    later(6, 7, 8, 9)
    for _ in range(12):
        await asyncio.sleep(0)
    settled = await asyncio.gather(*futures, return_exceptions=True)
    return [str(value) if isinstance(value, Exception) else value for value in settled]


@pytest.mark.parametrize("max_batch", [None, 2])
async def test_the_same_keys_make_the_same_batches_in_the_same_context(max_batch: int | None) -> None:
    plain: Log = []
    lean: Log = []
    plain_values = await _script(DataLoader[int, int](recording(plain), max_batch_size=max_batch))
    lean_values = await _script(BatchingLoader[int, int](recording(lean), max_batch_size=max_batch))
    assert lean == plain
    assert lean_values == plain_values
    assert len(lean) >= 3  # the script does span several batches
    assert lean[0][1] == "first"  # the batch runs in the context of its first key's load


async def test_a_loader_without_batching_dispatches_each_key_at_once() -> None:
    log: Log = []
    loader = BatchingLoader[int, int](recording(log), batch=False)
    assert list(await asyncio.gather(loader.load(1), loader.load(2))) == [10, 20]
    assert [keys for keys, _ in log] == [(1,), (2,)]


@pytest.mark.parametrize("keys", [[-1], [2], [1, -2, 3]])
async def test_each_loader_fails_only_the_keys_whose_call_failed(keys: list[int]) -> None:
    """One key is awaited in the batch itself (no task to gather), several are gathered: either way
    a failing call rejects its own key only, and each value comes back at its key."""
    calls: list[int] = []

    async def fetch_one(key: int) -> int:
        calls.append(key)
        await asyncio.sleep(0)
        if key < 0:
            raise LookupError(f"no {key}")
        return key * 10

    loader = EachLoader(fetch_one)
    settled = await asyncio.gather(*(loader.load(k) for k in keys), return_exceptions=True)
    assert [str(v) if isinstance(v, Exception) else v for v in settled] == [
        f"no {k}" if k < 0 else k * 10 for k in keys
    ]
    assert calls == keys  # one batch, one call per key


def test_every_loader_batches_with_a_coroutine_function() -> None:
    """What aiodataloader's constructor asserts of each loader, and `BatchingLoader`'s skips per
    request: checked here once for every loader class the requests use."""
    classes: list[type[Any]] = [BatchingLoader, *_subclasses(BatchingLoader)]
    assert {c.__name__ for c in classes} >= {"KeyedLoader", "EachLoader", "_InteractionsLoader"}
    for cls in classes[1:]:
        assert inspect.iscoroutinefunction(cls.batch_load_fn), cls


def _subclasses(cls: type[Any]) -> list[type[Any]]:
    found: list[type[Any]] = []
    for direct in cls.__subclasses__():
        found += [direct, *_subclasses(direct)]
    return found


async def test_a_primed_or_cleared_key_is_keyed_by_itself() -> None:
    log: Log = []
    loader = BatchingLoader[int, int](recording(log))
    loader.prime(1, 99)
    assert await loader.load(1) == 99
    assert log == []  # primed: never asked
    loader.clear(1)
    assert await loader.load(1) == 10
    assert [keys for keys, _ in log] == [(1,)]
    with pytest.raises(TypeError):
        loader.load(None)  # type: ignore[arg-type]


async def test_each_named_loader_is_made_on_first_use_and_kept_for_the_request() -> None:
    system = SimpleNamespace(MAX_BATCH=50)
    backends: Any = SimpleNamespace(billing=system, crm=system, gis=system, workorders=system, tracing=None)
    first, second = Loaders(backends), Loaders(backends)
    assert "account_by_no" not in vars(first)  # nothing made until asked
    made = first.account_by_no
    assert first.account_by_no is made  # kept: one loader (and one cache) per request
    assert vars(first)["account_by_no"] is made
    assert second.account_by_no is not made  # each request its own
    assert not isinstance(Loaders.account_by_no, KeyedLoader)  # read on the class: the descriptor
    first.release()  # what the view does once the answer is written
