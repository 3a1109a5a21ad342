"""Turn a raw surprise into a tail probability learned from the series' own history.

Who calls it: the default ensemble (:mod:`vigil.detectors._ensemble`), once per feature.

A Gaussian ``z^2 / 2`` overstates how rare a value is on a heavy-tailed or quantised series, so
one fixed threshold would fire all the time on some series and never on others. The calibrator
answers instead "how often did this series produce a surprise at least this large lately?":
``-ln P(S >= s)`` under the empirical law of its last ``size`` surprises. Beyond the top
``tail_fraction`` the empirical law has no resolution, so the tail is extrapolated with an
exponential law fitted to the excesses over that quantile (peaks over threshold, as in SPOT,
Siffer et al. 2017; the exponential is the generalised Pareto law with shape 0, and it is exact
for ``z^2 / 2`` of Gaussian noise).
"""

from __future__ import annotations

import math
from bisect import bisect_left

from vigil.detectors._window import SortedWindow


class TailCalibrator:
    """``-ln P(S >= s)`` under the empirical law of the last ``size`` surprises, with an
    exponential tail fitted to the top ``tail_fraction`` (peaks over threshold)."""

    MIN_TAIL = 5  # excesses needed to estimate the tail's mean

    __slots__ = ("_frac", "_min", "_win")

    def __init__(
        self, size: int = 2000, tail_fraction: float = 0.05, min_history: int = 30
    ) -> None:
        self._win = SortedWindow(size)
        self._frac = tail_fraction
        self._min = min_history

    def __call__(self, s: float) -> float:
        w = self._win
        srt = w.sorted
        n = len(srt)
        if n < self._min:
            w.push(s)
            return 0.0
        k = max(self.MIN_TAIL, int(n * self._frac))
        u = srt[n - k]
        if s <= u:
            p = (n - bisect_left(srt, s) + 1) / (n + 1)
            out = -math.log(p)
        else:
            excess = (math.fsum(srt[n - k :]) - k * u) / k
            out = math.log((n + 1) / k) + (s - u) / max(excess, 1e-12)
        w.push(s)
        return out
