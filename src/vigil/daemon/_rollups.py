"""Rollup persistence: closed 1-minute / 1-hour buckets written to the store in batches, and
retention enforced by age.

Run by :class:`vigil.daemon.Controller` as one task. Every ``metrics.flush_every`` seconds it
takes the buckets the :class:`~vigil.collectors.SeriesStore` closed since the last time (a list
swap on the event loop) and writes them in a worker thread, :data:`FLUSH_CHUNK` rows per
transaction, so ingestion never waits for the database. Every :data:`PRUNE_EVERY` seconds it
deletes the minute buckets older than ``metrics.keep_minutes`` and the hour buckets older than
``metrics.keep_hours`` (back from the newest bucket stored, if earlier than now). On a clean
shutdown :meth:`RollupFlusher.flush` with ``final=True`` also
writes the open buckets; the store merges them with the rest of their bucket written after the
restart.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable

from vigil.collectors import LARGEST_SUM, Rollup, SeriesKey, SeriesStore
from vigil.errors import StoreError
from vigil.settings import MetricsSettings
from vigil.store import RollupRow, Store

log = logging.getLogger("vigil.daemon")

FLUSH_CHUNK = 2000
"""Rows written per transaction. One transaction for a minute's 50,000 buckets (1,000 nodes x 50
series close together) held the GIL in one stretch of C for up to ~0.6 s: the event loop (the
API, the heartbeats) stood still that long. In chunks of 2,000 the longest stall seen was ~35 ms,
for the same total time."""
PRUNE_EVERY = 300.0
"""Seconds between retention passes: buckets are minutes or hours, so 5 minutes late is nothing."""


def to_row(closed: tuple[SeriesKey, float, Rollup]) -> RollupRow:
    key, width, r = closed
    return RollupRow(
        name=key.name,
        labels=key.labels,
        width=int(width),
        start=r.start,
        min=r.min,
        max=r.max,
        total=r.total,
        count=r.count,
        last=r.last,
    )


class RollupFlusher:
    def __init__(
        self,
        series: SeriesStore,
        store: Store,
        settings: MetricsSettings,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.series, self.store, self.settings = series, store, settings
        self._clock, self._sleep = clock, sleep
        self.written = self.lost = self.pruned = 0
        self.saturated = 0
        """Buckets written whose sum overflowed the doubles (values near 1e308): stored at
        +-LARGEST_SUM, their mean off either way (``GET /api/v1/series`` lists them as
        ``approximate``); counted and logged, never stored as inf."""
        self._last_prune = -float("inf")

    async def flush(self, *, final: bool = False) -> int:
        """Write the closed buckets (and the open ones when ``final``); the rows written."""
        closed = self.series.drain_closed()
        if final:
            closed += self.series.open_buckets()
        if not closed:
            return 0
        written = 0
        for at in range(0, len(closed), FLUSH_CHUNK):
            chunk = closed[at : at + FLUSH_CHUNK]
            # the rows are built in the thread too: 50,000 of them would hold the loop ~0.1 s
            try:
                await asyncio.to_thread(self._write, chunk)
            except StoreError as exc:  # the in-memory series keep serving; only history has a gap
                self.lost += len(closed) - at
                log.error(
                    "could not persist %d rollups (%d lost so far): %s",
                    len(closed) - at,
                    self.lost,
                    exc,
                )
                break
            written += len(chunk)
        self.written += written
        return written

    def _write(self, closed: list[tuple[SeriesKey, float, Rollup]]) -> None:
        rows = [to_row(c) for c in closed]
        self.store.save_rollups(rows)
        full = [row for row in rows if abs(row.total) == LARGEST_SUM]
        if full:
            self.saturated += len(full)
            log.warning(
                "%d rollup(s) whose sum overflowed saturated at %g (%d so far; their mean is "
                "approximate, off either way; min and max exact), e.g. %s%s at %g",
                len(full),
                LARGEST_SUM,
                self.saturated,
                full[0].name,
                dict(full[0].labels),
                full[0].start,
            )
        self.series.mark_saved(closed)
        for width in (60.0, 3600.0):
            starts = [rollup.start for _, w, rollup in closed if w == width]
            if starts:
                self.series.mark_persisted(width, min(starts))

    async def seed(self) -> None:
        """Tell the series store how far back the persisted rollups go, and how far forward
        (the buckets a clean stop saved open, which this process opens afresh), once, at start."""
        for width in (60, 3600):
            try:
                start = await asyncio.to_thread(self.store.earliest_rollup, width)
                end = await asyncio.to_thread(self.store.latest_rollup, width)
            except StoreError as exc:
                log.error("could not read the oldest %ds rollup: %s", width, exc)
                continue  # the series store keeps -inf and inf: queries always ask the store
            self.series.persisted_from[float(width)] = math.inf if start is None else start
            self.series.saved_before[float(width)] = -math.inf if end is None else end

    async def prune(self) -> int:
        """Delete the buckets older than their resolution's retention; the number deleted.

        Retention is counted back from the end of the newest bucket stored, or from now if
        that is earlier (as Prometheus counts it from its newest block): counted from the wall
        clock alone, a controller started with its clock a year ahead (a dead RTC, a bad NTP
        source) deleted every persisted rollup at its first pass."""
        now = self._clock()
        deleted = 0
        for width, keep in ((60, self.settings.keep_minutes), (3600, self.settings.keep_hours)):
            try:
                newest = await asyncio.to_thread(self.store.latest_rollup, width)
                horizon = now if newest is None else min(now, newest + width)
                deleted += await asyncio.to_thread(self.store.prune_rollups, width, horizon - keep)
            except StoreError as exc:
                log.error("could not prune %ds rollups: %s", width, exc)
        self.pruned += deleted
        self._last_prune = now
        return deleted

    async def run(self) -> None:
        await self.seed()
        while True:
            if self._clock() - self._last_prune >= PRUNE_EVERY:
                await self.prune()
            await self._sleep(self.settings.flush_every)
            await self.flush()
