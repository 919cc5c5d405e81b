"""The start-up heap is frozen out of the collector's sight (`tidegate serve` does it once)."""

from __future__ import annotations

import gc

from gateway.observability.heap import freeze_startup_heap


def test_freezing_moves_the_live_heap_out_of_collection() -> None:
    gc.unfreeze()
    try:
        before = len(gc.get_objects())
        frozen = freeze_startup_heap()
        assert frozen == gc.get_freeze_count() > before // 2  # most of what lives now: modules, schema
        assert len(gc.get_objects()) < before - frozen // 2  # the collector no longer walks them
    finally:
        gc.unfreeze()


def test_the_young_generation_is_collected_as_configured_and_the_older_ones_as_before() -> None:
    before = gc.get_threshold()
    gc.unfreeze()
    try:
        freeze_startup_heap(20_000)
        assert gc.get_threshold() == (20_000, before[1], before[2])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
