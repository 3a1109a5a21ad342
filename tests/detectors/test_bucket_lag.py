"""BucketLag: the value one period ago, exact on the bucket grid, in memory fixed by the period."""

from __future__ import annotations

import math
import sys

import pytest

from vigil.detectors import BucketLag

DAY = 86400.0


def test_on_the_bucket_grid_the_value_one_period_earlier_is_returned_exactly() -> None:
    lag = BucketLag(DAY, width=300.0)
    out = [lag.push(i * 300.0, float(i)) for i in range(3 * 288)]
    assert all(v is None for v in out[:288])
    assert out[288:] == [float(i - 288) for i in range(288, 3 * 288)]


def test_a_fast_series_gets_the_last_value_of_the_bucket_a_period_earlier() -> None:
    lag = BucketLag(3600.0, width=60.0)
    out = [lag.push(float(s), float(s)) for s in range(2 * 3600)]
    assert out[3600] == 59.0  # t = 3600 looks at 0..59 s, whose last value is 59
    assert out[3600 + 125] == 179.0


def test_memory_is_fixed_by_the_period_not_by_the_rate() -> None:
    slow, fast = BucketLag(DAY), BucketLag(DAY)
    for i in range(2 * 288):
        slow.push(i * 300.0, 1.0)
    for i in range(2 * 86400):
        fast.push(float(i), 1.0)
    size = sys.getsizeof
    assert size(fast._keys) + size(fast._values) == size(slow._keys) + size(slow._values)
    assert size(fast._keys) + size(fast._values) < 8 * 1024


def test_an_irregular_series_uses_the_nearest_earlier_bucket_within_the_tolerance() -> None:
    lag = BucketLag(DAY, width=300.0, tolerance=3600.0)
    lag.push(0.0, 5.0)
    assert lag.push(DAY + 1800.0, 1.0) == 5.0  # 30 min after: within the hour
    lag2 = BucketLag(DAY, width=300.0, tolerance=3600.0)
    lag2.push(0.0, 5.0)
    assert lag2.push(DAY + 2 * 3600.0, 1.0) is None  # two hours after: too old


def test_a_gap_longer_than_the_period_forgets_the_old_values() -> None:
    lag = BucketLag(DAY, width=300.0)
    lag.push(0.0, 5.0)
    assert lag.push(3 * DAY, 1.0) is None


def test_out_of_order_rows_do_not_overwrite_newer_ones_and_bad_times_are_ignored() -> None:
    lag = BucketLag(DAY, width=300.0, tolerance=3600.0)  # a ring of 288 + 12 + 1 buckets
    newer = 301 * 300.0 + 10.0
    lag.push(newer, 7.0)
    lag.push(10.0, 3.0)  # 301 buckets older, the same slot: not kept
    assert lag.push(newer + DAY, 0.0) == 7.0
    assert lag.push(math.nan, 1.0) is None
    assert lag.push(math.inf, 1.0) is None


def test_bad_settings_are_refused_with_the_values() -> None:
    with pytest.raises(ValueError, match="width=0"):
        BucketLag(DAY, width=0.0)


def test_a_time_whose_bucket_number_overflows_is_ignored_not_raised() -> None:
    lag = BucketLag(600.0, width=300.0, tolerance=0.0)
    for t in (1e300, -1e300, 300.0 * 2.0**63, math.nan, math.inf):
        assert lag.push(t, 5.0) is None  # OverflowError for the finite ones before
    lag.push(0.0, 1.0)
    assert lag.push(600.0, 2.0) == 1.0  # the ring is untouched
