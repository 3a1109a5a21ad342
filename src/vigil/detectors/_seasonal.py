"""Seasonal baselines: what the series did at the same time of day (or week) before.

Who calls it: the default ensemble (:mod:`vigil.detectors._ensemble`) uses :class:`Lag` for its
day-over-day feature; :class:`SeasonalZScore` is a detector of its own for metrics with a strong
daily or weekly rhythm (request rates, batch loads), for the metrics pipeline and ``vigil detect``
experiments. Pure: timestamps are passed in (seconds since any epoch; phase is taken modulo the
period, so a UTC epoch aligns days on UTC midnight).
"""

from __future__ import annotations

import math
from collections import deque

from vigil.detectors._score import Score, squash

DAY = 86400.0
WEEK = 7 * DAY


class Lag:
    """The value seen ``lag`` seconds ago (the latest at or before ``t - lag``), in O(1) amortised.

    Keeps only the rows of the last ``lag`` seconds, so memory is bounded by the sampling rate.
    A lagged value older than ``lag + tolerance`` (a gap in the data) counts as absent.
    """

    __slots__ = ("_hist", "_lag", "_tol")

    def __init__(self, lag: float, tolerance: float = 3600.0) -> None:
        self._lag = lag
        self._tol = tolerance
        self._hist: deque[tuple[float, float]] = deque()

    def push(self, t: float, x: float) -> float | None:
        """Record ``(t, x)`` and return the value at ``t - lag``, or None if unknown."""
        h = self._hist
        cut = t - self._lag
        while len(h) > 1 and h[1][0] <= cut:
            h.popleft()
        found = h[0][1] if h and cut - self._tol <= h[0][0] <= cut else None
        if h and t < h[-1][0]:  # out of order: keep the history sorted, drop the row
            return found
        h.append((t, x))
        return found


SLOTS = 48  # half-hour slots per period: enough for daily shapes, few enough to learn fast
ALPHA = 0.1  # weight of the newest visit to a slot: a baseline ~10 periods long
MIN_VISITS = 3  # visits before a slot is judged (one or two days are not a baseline)


class SeasonalZScore:
    """``|x - slot mean| / slot sigma`` for the slot of the period that ``t`` falls in.

    Each slot keeps an exponentially weighted mean and variance of its values, so a slowly
    changing daily shape is followed. Score ``z / (z + k)``: 0.5 at ``k`` sigma.
    """

    def __init__(self, period: float = DAY, slots: int = SLOTS, k: float = 4.0) -> None:
        self._period = period
        self._slots = slots
        self._k = k
        self._mean = [0.0] * slots
        self._var = [0.0] * slots
        self._visits = [0] * slots

    def update(self, t: float, x: float) -> Score:
        i = int((t % self._period) / self._period * self._slots) % self._slots
        mean, var, visits = self._mean[i], self._var[i], self._visits[i]
        score = Score(0.0, f"slot {i}: learning")
        if visits >= MIN_VISITS:
            sigma = max(math.sqrt(var), 1e-9 * abs(mean) + 1e-12)
            z = abs(x - mean) / sigma
            score = Score(squash(z, self._k), f"slot {i}: {z:.1f} sigma from the usual {mean:.6g}")
        if visits == 0:
            self._mean[i] = x
        else:
            delta = x - mean
            self._mean[i] = mean + ALPHA * delta
            self._var[i] = (1 - ALPHA) * (var + ALPHA * delta * delta)
        self._visits[i] = visits + 1
        return score
