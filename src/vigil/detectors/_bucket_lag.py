"""The value a series had one period ago, in memory fixed whatever the sampling rate.

Who calls it: the default detector (:mod:`vigil.detectors._record_ensemble`), for its
day-over-day and week-over-week views. Pure: timestamps are passed in (seconds, any origin).

:class:`~vigil.detectors._seasonal.Lag` keeps every row of the last period: a week of one-second
samples would be 600k rows per series. :class:`BucketLag` keeps one value per time bucket (the
last one written) in a ring of ``(period + tolerance) / width`` buckets, two flat arrays: 32 KiB
for a week of 5-minute buckets, at any rate. On a series sampled on the bucket grid (NAB's
5-minute series) it returns exactly the value one period earlier; on a faster series, the last
value of that bucket; on an irregular one, the last value of the nearest earlier bucket within
``tolerance``.
"""

from __future__ import annotations

import math
from array import array

_EMPTY = -(2**62)  # bucket number of a slot never written


class BucketLag:
    """The value about ``period`` seconds before ``t``, from a ring of time buckets."""

    __slots__ = ("_back", "_keys", "_period", "_slots", "_values", "_width")

    def __init__(self, period: float, width: float = 300.0, tolerance: float = 3600.0) -> None:
        if not (width > 0.0 and period >= width and tolerance >= 0.0):
            raise ValueError(
                f"need 0 < width <= period and tolerance >= 0; got period={period}, "
                f"width={width}, tolerance={tolerance}"
            )
        self._width = width
        self._period = max(1, round(period / width))  # in buckets
        self._back = int(tolerance // width)
        # Every bucket from (period + back) buckets ago to now has its own slot, so the ones
        # read (one period ago, and up to ``back`` before) are never overwritten by new ones.
        self._slots = self._period + self._back + 1
        self._keys = array("q", [_EMPTY]) * self._slots
        self._values = array("d", [0.0]) * self._slots

    def push(self, t: float, x: float) -> float | None:
        """Record ``(t, x)``; return the value one period before ``t``, or None if unknown."""
        bucket = t / self._width
        if not _EMPTY < bucket < -_EMPTY:  # NaN, +-inf, or a time (1e300) whose bucket number
            return None  # overflowed the int64 ring of keys: OverflowError, a crashed detect run
        k = math.floor(bucket)
        slots, keys = self._slots, self._keys
        found = None
        target = k - self._period
        for b in range(target, target - self._back - 1, -1):
            i = b % slots
            if keys[i] == b:
                found = self._values[i]
                break
        i = k % slots
        if keys[i] <= k:  # a row older than what the slot holds (out of order) is not kept
            keys[i] = k
            self._values[i] = x
        return found
