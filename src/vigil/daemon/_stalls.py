"""Event-loop stalls, measured and kept short: loop lag and garbage-collector pauses on
``/metrics``, and long-lived objects frozen out of the collector's full passes.

Run by :class:`vigil.daemon.Controller` as one task (:meth:`StallWatch.run`); its
:meth:`StallWatch.collect` is registered in the controller's metrics registry.

- ``vigil_loop_lag_seconds``: how late a timer that should fire every :data:`TICK` seconds
  fires. Everything on the loop (heartbeats, API answers) waits as long as this.
- ``vigil_gc_pause_seconds{generation}``: each collection of Python's cyclic garbage collector,
  timed from ``gc.callbacks``. A collection holds the GIL from start to end.
- ``vigil_gc_freezes_total``, ``vigil_gc_frozen_objects``: see below.

Why freeze (measured under ``bench/ingest.py``'s 1,000 nodes x 50 series): a full
(generation 2) collection visits every object that ever survived two collections: the series
store's 50,000 series (each a few objects even with its points in arrays), the nodes, the
settings, the modules. Each took 70-200 ms, during which no request was answered: that is API
p99. Such objects live as long as the controller, so after a full collection slower than
:data:`FREEZE_AFTER`, the watch collects the young generations and calls ``gc.freeze()``: later
full collections skip everything alive then. What it costs: a reference cycle among objects
frozen then that becomes garbage later is never collected (objects without cycles are still
freed by reference counting). A freeze happens only after a slow full collection, i.e. after
the heap grew by as much again, and at most once every :data:`FREEZE_EVERY` seconds.
"""

from __future__ import annotations

import asyncio
import bisect
import gc
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

TICK = 0.02
"""Seconds between the lag probe's timers (50 a second: ~0.1 % of a core)."""
FREEZE_AFTER = 0.03
"""A full collection slower than this (seconds) freezes the objects that survived it."""
FREEZE_EVERY = 10.0
"""Seconds at least between two freezes. While a fleet registers, its series arrive over tens of
seconds and need several freezes (one every 5 minutes left half of 1,000 nodes' series to
collections of 100-200 ms); afterwards a slow collection mostly meets short-lived objects
(closed rollups waiting for the flusher, requests in flight), freed by reference counting
anyway, and each freeze may keep for ever a cycle among what is alive at that instant."""
BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.0)
"""Histogram bounds (seconds): fine around the API's 100 ms target."""


class Pauses:
    """A histogram of durations: counts per bucket of :data:`BUCKETS` (the last: above), the
    sum and the largest. Plain ints and floats: it is updated inside a gc callback, where
    taking a lock (as prometheus_client's Histogram does) could deadlock."""

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)
        self.total = 0.0
        self.largest = 0.0

    def add(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.total += seconds
        if seconds > self.largest:
            self.largest = seconds

    def family(self, family: HistogramMetricFamily, labels: list[str]) -> None:
        cumulative, running = [], 0
        for bound, count in zip((*BUCKETS, float("inf")), self.counts, strict=True):
            running += count
            cumulative.append((str(bound) if bound != float("inf") else "+Inf", running))
        family.add_metric(labels, cumulative, self.total)


class StallWatch:
    """The loop's lag and the collector's pauses; with ``freeze_after`` (seconds), a freeze
    after each full collection slower than that (None: never; the controller passes
    :data:`FREEZE_AFTER` only when the process is its own, as under ``vigil up``)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.perf_counter,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        freeze_after: float | None = None,
    ) -> None:
        self._clock, self._sleep = clock, sleep
        self._freeze_after = freeze_after
        self.lag = Pauses()
        self.gc = [Pauses(), Pauses(), Pauses()]
        self.freezes = 0
        self._frozen_at = -float("inf")
        self._started = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._freeze_due = False

    async def run(self) -> None:
        """Measure the loop's lag and time every collection, until cancelled."""
        self._loop = asyncio.get_running_loop()
        gc.callbacks.append(self._on_gc)
        try:
            while True:
                before = self._clock()
                await self._sleep(TICK)
                self.lag.add(max(0.0, self._clock() - before - TICK))
        finally:
            gc.callbacks.remove(self._on_gc)
            self._loop = None

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        # runs inside the collection, on whichever thread triggered it: no locks, no loop calls
        # but the thread-safe one
        if phase == "start":
            self._started = self._clock()
            return
        seconds = self._clock() - self._started
        generation = int(info["generation"])
        self.gc[generation].add(seconds)
        limit = self._freeze_after
        if (
            generation == 2
            and limit is not None
            and seconds > limit
            and not self._freeze_due
            and self._started - self._frozen_at >= FREEZE_EVERY
        ):
            loop = self._loop
            if loop is not None:
                self._freeze_due = True
                loop.call_soon_threadsafe(self.freeze)

    def freeze(self) -> None:
        """Collect the young generations (their garbage must not be frozen), then freeze
        everything alive: later full collections skip it."""
        self._freeze_due = False
        gc.collect(1)
        gc.freeze()
        self.freezes += 1
        self._frozen_at = self._clock()

    def collect(self) -> Iterator[Metric]:
        lag = HistogramMetricFamily(
            "vigil_loop_lag_seconds",
            f"How late the controller's event loop runs a timer due every {TICK} s",
        )
        self.lag.family(lag, [])
        yield lag
        pauses = HistogramMetricFamily(
            "vigil_gc_pause_seconds",
            "Pauses of Python's cyclic garbage collector, by generation (2: full)",
            labels=["generation"],
        )
        for generation, histogram in enumerate(self.gc):
            histogram.family(pauses, [str(generation)])
        yield pauses
        freezes = CounterMetricFamily(
            "vigil_gc_freezes",
            f"gc.freeze() calls after a full collection slower than {FREEZE_AFTER} s",
        )
        freezes.add_metric([], self.freezes)
        yield freezes
        frozen = GaugeMetricFamily(
            "vigil_gc_frozen_objects", "Objects frozen out of the garbage collector's passes"
        )
        frozen.add_metric([], gc.get_freeze_count())
        yield frozen
