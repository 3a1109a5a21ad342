"""Columnar rings for :class:`~vigil.collectors.SeriesStore`: points and closed rollups kept in
``array('d')`` columns, which Python's cyclic garbage collector does not look into.

Why (measured, ``bench/ingest.py``'s load of 50,000 series): a ring of ``(at, value)`` tuples
and a deque of :class:`Rollup` objects per series made every full (generation 2) collection
visit each point and bucket. With 40 points per series a full collection took ~420 ms (cache
misses on millions of small objects), and once the 900-point rings, the 180 minute and the 168
hour buckets are full there are ~60 M of them: seconds, during which the controller's event loop
answers nothing. Arrays of doubles hold no object references, so a collection skips them, and a
point costs 16 bytes instead of ~100.

A ring is one flat array of fixed-width records (a point is ``at, value``; a bucket is
``start, min, max, total, count, last``): one object per ring, since even an array is an object
the collector visits (three per series). It keeps its newest ``cap`` records: it appends, and
when it holds ``cap`` plus a slack (an eighth) it drops the oldest in one slice deletion, so an
append is O(1) amortized and the memory at most 12.5 % over ``cap``. Pure; used by
:mod:`vigil.collectors._series` only.
"""

from __future__ import annotations

import math
import sys
from array import array

LARGEST = sys.float_info.max
"""What a bucket's sum saturates at (either sign): two samples of 1e308 sum past the largest
double, to inf, which no JSON carries, PostgreSQL refuses to add to, and which made every mean
of the bucket inf."""


def saturated(total: float) -> float:
    """``total`` held within the doubles: an overflowed sum (+-inf) becomes +-:data:`LARGEST`.
    Its mean is then off by what overflowed, and either way: a sum held at +max that later
    values lower ends above the true one. Min, max and last stay exact."""
    return total if -LARGEST <= total <= LARGEST else math.copysign(LARGEST, total)


class Rollup:
    """Aggregate of one series over ``[start, start + width)``: min, max, mean, count, last."""

    __slots__ = ("count", "last", "max", "min", "start", "total")

    def __init__(self, start: float, value: float) -> None:
        self.start = start
        self.min = self.max = self.last = self.total = value
        self.count = 1

    @classmethod
    def of(
        cls, start: float, low: float, high: float, total: float, count: int, last: float
    ) -> Rollup:
        """A rollup with every figure given (one read back from a :class:`RollupRing`)."""
        rollup = cls(start, last)
        rollup.min, rollup.max, rollup.total, rollup.count = low, high, total, count
        return rollup

    def add(self, value: float) -> None:
        # comparisons rather than min()/max(): this runs for every sample (1,000 nodes x 50
        # series a second), and a builtin call costs more than the comparison itself
        if value < self.min:
            self.min = value
        elif value > self.max:
            self.max = value
        self.total += value
        self.last = value
        self.count += 1

    @property
    def mean(self) -> float:
        return self.total / self.count

    def __repr__(self) -> str:
        return (
            f"Rollup(start={self.start!r}, min={self.min!r}, max={self.max!r}, "
            f"mean={self.mean!r}, count={self.count}, last={self.last!r})"
        )


POINT = 2
"""Doubles per point in a point ring: ``at, value``."""
BUCKET = 6
"""Doubles per bucket in a rollup ring: ``start, min, max, total, count, last``."""


def limit(cap: int, width: int) -> int:
    """The length (in doubles) past which a ring of ``cap`` records drops its oldest ones."""
    return width * (cap + max(16, cap // 8))


def trim(ring: array[float], cap: int, width: int) -> None:
    """Drop every record older than the newest ``cap``."""
    cut = len(ring) - cap * width
    if cut > 0:
        del ring[:cut]


def points(ring: array[float], cap: int) -> list[tuple[float, float]]:
    """The points of a point ring, oldest first."""
    flat = ring[max(0, len(ring) - cap * POINT) :]
    return list(zip(flat[0::POINT], flat[1::POINT], strict=True))


def last_point(ring: array[float]) -> tuple[float, float] | None:
    return (ring[-2], ring[-1]) if ring else None


def push(ring: array[float], cap: int, r: Rollup) -> None:
    """Append a closed bucket to a rollup ring of ``cap`` buckets."""
    if cap == 0:
        return
    ring.extend((r.start, r.min, r.max, r.total, r.count, r.last))
    if len(ring) > limit(cap, BUCKET):
        trim(ring, cap, BUCKET)


def _kept(ring: array[float], cap: int) -> array[float]:
    return ring[max(0, len(ring) - cap * BUCKET) :]


def rollups(ring: array[float], cap: int) -> list[Rollup]:
    """The buckets of a rollup ring as :class:`Rollup` objects, oldest first (fresh copies)."""
    flat = _kept(ring, cap)
    return [
        Rollup.of(flat[i], flat[i + 1], flat[i + 2], flat[i + 3], int(flat[i + 4]), flat[i + 5])
        for i in range(0, len(flat), BUCKET)
    ]


def parts(ring: array[float], cap: int) -> list[tuple[float, float, int]]:
    """``(start, total, count)`` of each bucket of a rollup ring, oldest first."""
    flat = _kept(ring, cap)
    return [(flat[i], flat[i + 3], int(flat[i + 4])) for i in range(0, len(flat), BUCKET)]


def first_start(ring: array[float], cap: int) -> float | None:
    """The start of the oldest bucket kept in a rollup ring (None: none)."""
    return ring[max(0, len(ring) - cap * BUCKET)] if ring and cap else None
