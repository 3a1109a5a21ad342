"""Rollups of huge values (near the largest double) saturate instead of overflowing to inf:
in memory, in the API's step means, through the flusher into SQLite (counted), and in the
store's merge of two halves of a bucket (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import logging
import math
import sys
from pathlib import Path

import pytest

from vigil.collectors import Sample, SeriesKey, SeriesStore
from vigil.daemon._rollups import RollupFlusher
from vigil.settings import MetricsSettings
from vigil.store import RollupRow, SqlStore

BIG = sys.float_info.max
HUGE = 1e308  # two of them sum past the largest double


def filled() -> SeriesStore:
    """gpu.flops: 1e308 twice in minute 0, and once in minute 1 (which closes minute 0)."""
    series = SeriesStore(10, 10, keep_closed=True)
    for at in (0.0, 30.0, 60.0):
        series.add(Sample.of("gpu.flops", HUGE, at, {"gpu": "0"}))
    return series


def test_the_sum_of_a_bucket_saturates_at_the_largest_double() -> None:
    series = filled()
    key = SeriesKey("gpu.flops", (("gpu", "0"),))
    first, second = series.rollups(key, 60)
    assert (first.total, first.count, first.min, first.max) == (BIG, 2, HUGE, HUGE)
    assert second.total == HUGE
    points = series.query("gpu.flops", step=60)
    assert all(math.isfinite(mean) for _, mean in points), points
    json.dumps(points, allow_nan=False)  # the API answers it (inf is no JSON)


def test_the_mean_over_many_series_of_huge_values_stays_finite() -> None:
    series = SeriesStore(10, 10)
    for gpu in "0123":
        series.add(Sample.of("gpu.flops", HUGE, 0.0, {"gpu": gpu}))
    [(_, mean)] = series.query("gpu.flops", step=60)
    assert math.isfinite(mean) and mean > 0


async def test_the_flusher_stores_the_saturated_sum_and_counts_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'v.db'}")
    try:
        series = filled()
        flusher = RollupFlusher(series, store, MetricsSettings(), clock=lambda: 120.0)
        with caplog.at_level(logging.WARNING):
            assert await flusher.flush(final=True) == 3  # minute 0, minute 1, hour 0
        [m0, m1] = store.load_rollups("gpu.flops", {}, 60, 0, 1e12)
        [h0] = store.load_rollups("gpu.flops", {}, 3600, 0, 1e12)
        assert (m0.total, m1.total, h0.total) == (BIG, HUGE, BIG)
        assert flusher.saturated == 2  # minute 0 and hour 0
        assert "gpu.flops" in caplog.text and "saturated" in caplog.text
    finally:
        store.close()


def half(total: float) -> RollupRow:
    return RollupRow("gpu.flops", (("gpu", "0"),), 60, 0.0, HUGE, HUGE, total, 2, HUGE)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_merging_two_halves_of_a_bucket_saturates_in_the_store(db_url: str, sign: float) -> None:
    # PostgreSQL refused the merge's sum (value out of range: overflow) and the whole batch
    # with it; SQLite stored inf
    store = SqlStore(db_url)
    try:
        value = sign * HUGE
        row = RollupRow(
            "gpu.flops", (("gpu", "0"),), 60, 0.0, value, value, sign * 1.5e308, 2, value
        )
        store.save_rollups([row])
        store.save_rollups([row])  # the same minute after a controller restart
        [merged] = store.load_rollups("gpu.flops", {}, 60, 0, 1e12)
        assert (merged.total, merged.count) == (sign * BIG, 4)
    finally:
        store.close()


def test_a_non_finite_sum_given_to_the_store_is_saturated_not_stored(db_url: str) -> None:
    store = SqlStore(db_url)
    try:
        store.save_rollups([half(math.inf)])
        [row] = store.load_rollups("gpu.flops", {}, 60, 0, 1e12)
        assert row.total == BIG
    finally:
        store.close()
