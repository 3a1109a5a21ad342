"""A sliding window kept in sorted order: rolling median, quantiles and ranks in O(log n) reads.

Used by the rolling detectors (:mod:`vigil.detectors._zscore`) and the default ensemble
(:mod:`vigil.detectors._ensemble`). Memory is bounded by ``size``; an update costs one binary
search and two list moves (C ``memmove``, a few microseconds for thousands of items).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections import deque


class SortedWindow:
    """The last ``size`` values pushed, readable as a sorted list."""

    __slots__ = ("_fifo", "_size", "sorted")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"size must be >= 1, got {size}")
        self._size = size
        self._fifo: deque[float] = deque()
        self.sorted: list[float] = []

    def __len__(self) -> int:
        return len(self.sorted)

    def push(self, x: float) -> None:
        """Add ``x``; drop the oldest value once the window is full."""
        s = self.sorted
        if len(s) == self._size:
            del s[bisect_left(s, self._fifo.popleft())]
        self._fifo.append(x)
        insort(s, x)

    def quantile(self, q: float) -> float:
        """The ``q`` quantile (nearest rank); the window must not be empty."""
        s = self.sorted
        return s[min(len(s) - 1, int(q * len(s)))]

    def median(self) -> float:
        return self.quantile(0.5)

    def count_at_least(self, x: float) -> int:
        return len(self.sorted) - bisect_left(self.sorted, x)

    def count_at_most(self, x: float) -> int:
        return bisect_right(self.sorted, x)
