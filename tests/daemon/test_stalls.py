"""StallWatch: a blocked loop shows as lag, every collection is timed, a slow full collection
freezes the survivors (only when asked), and all of it is on the controller's /metrics.

Lags and pauses are checked against lower bounds the test itself causes (a loop blocked for
60 ms is at least 60 ms late), never against how fast anything ran.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from vigil.daemon._stalls import BUCKETS, StallWatch


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()  # whatever a test froze goes back to the collector


async def started(watch: StallWatch) -> asyncio.Task[None]:
    task = asyncio.create_task(watch.run())
    await asyncio.sleep(0)  # run() has registered its gc callback
    return task


async def stopped(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_a_late_timer_is_recorded_as_lag_in_its_bucket() -> None:
    now = [100.0]
    late = [0.0, 0.06, 0.0, 0.3]  # how late each of the watch's timers fires

    async def sleep(seconds: float) -> None:
        if not late:
            raise asyncio.CancelledError
        now[0] += seconds + late.pop(0)

    watch = StallWatch(clock=lambda: now[0], sleep=sleep)
    await asyncio.gather(watch.run(), return_exceptions=True)
    assert sum(watch.lag.counts) == 4
    assert watch.lag.largest == pytest.approx(0.3)
    assert watch.lag.total == pytest.approx(0.36)
    bucket = dict(zip((*BUCKETS, float("inf")), watch.lag.counts, strict=True))
    assert bucket[0.075] == 1 and bucket[0.3] == 1 and bucket[0.001] == 2


async def test_every_collection_is_timed_and_the_callback_removed_at_the_end() -> None:
    watch = StallWatch()
    task = await started(watch)
    gc.collect(2)
    gc.collect(0)
    await stopped(task)
    assert sum(watch.gc[2].counts) >= 1 and sum(watch.gc[0].counts) >= 1
    assert watch.gc[2].total > 0.0
    assert watch.freezes == 0 and gc.get_freeze_count() == 0  # not asked to freeze
    assert not any(getattr(cb, "__self__", None) is watch for cb in gc.callbacks)


async def test_a_full_collection_slower_than_the_limit_freezes_the_survivors(
    unfrozen: None,
) -> None:
    watch = StallWatch(freeze_after=0.0)  # any full collection is "slow"
    task = await started(watch)
    kept = [[i] for i in range(10_000)]  # long-lived containers
    gc.collect(2)
    await asyncio.sleep(0)  # the freeze the collection handed to the loop
    gc.collect(2)  # slow too, but within FREEZE_EVERY (10 s) of the first freeze
    await asyncio.sleep(0)
    await stopped(task)
    assert gc.get_freeze_count() >= len(kept)
    assert watch.freezes == 1


async def test_young_garbage_is_collected_before_a_freeze(unfrozen: None) -> None:
    watch = StallWatch(freeze_after=0.0)
    task = await started(watch)
    cycle: list[object] = []
    cycle.append(cycle)  # garbage only the cyclic collector frees
    gone = [False]

    class Marker:
        def __del__(self) -> None:
            gone[0] = True

    cycle.append(Marker())
    del cycle
    watch.freeze()
    await stopped(task)
    assert gone[0]  # collected, not frozen for ever


async def test_the_figures_are_on_the_metrics_page() -> None:
    registry = CollectorRegistry()
    watch = StallWatch()
    registry.register(watch)
    task = await started(watch)
    gc.collect(2)
    await stopped(task)
    text = generate_latest(registry).decode()
    assert 'vigil_gc_pause_seconds_count{generation="2"} ' in text
    full = next(
        line
        for line in text.splitlines()
        if line.startswith('vigil_gc_pause_seconds_count{generation="2"}')
    )
    assert float(full.split()[-1]) >= 1.0
    assert "vigil_loop_lag_seconds_bucket{le=" in text
    assert "vigil_gc_freezes_total 0.0" in text
    assert "vigil_gc_frozen_objects" in text
