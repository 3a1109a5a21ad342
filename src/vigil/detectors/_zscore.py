"""The seed's fault threshold ``|X_t - mean| >= k sigma``, and its EWMA and MAD variants.

Who calls it: the metrics pipeline (one detector per series, chosen in config) and tests; the
default ensemble (:mod:`vigil.detectors._ensemble`) builds on the same robust statistics.
Pure and causal: an observation is judged against the history *before* it, then learned.

Scores are ``z / (z + k)``: 0 for a value at the centre, exactly 0.5 on the ``k`` sigma boundary
(so ``score >= 0.5`` is the seed's rule), approaching 1 far beyond it.
"""

from __future__ import annotations

import math
from collections import deque

from vigil.detectors._score import Score, squash
from vigil.detectors._window import SortedWindow

MIN_HISTORY = 10  # observations before anything is judged: a sigma of fewer is noise
MAD_TO_SIGMA = 1.4826  # sigma of a normal law per unit of median absolute deviation
# A flat history has sigma 0: any change is infinitely surprising. The floor keeps z finite
# (a change of one part in a billion of the level, or 1e-12 absolute, is one sigma).
REL_FLOOR = 1e-9
ABS_FLOOR = 1e-12


def _judge(x: float, centre: float, sigma: float, k: float, what: str) -> Score:
    sigma = max(sigma, REL_FLOOR * abs(centre) + ABS_FLOOR)
    z = abs(x - centre) / sigma
    verdict = "beyond" if z >= k else "within"
    return Score(squash(z, k), f"{z:.2f} sigma from the {what} {centre:.6g} ({verdict} {k:g})")


class RollingZScore:
    """``|x - mean| / sigma`` over the last ``window`` observations (running sums, O(1))."""

    def __init__(self, window: int = 100, k: float = 3.0) -> None:
        self._k = k
        self._values: deque[float] = deque(maxlen=window)
        self._sum = 0.0
        self._sumsq = 0.0

    def update(self, t: float, x: float) -> Score:
        n = len(self._values)
        score = Score(0.0, "learning")
        if n >= MIN_HISTORY:
            mean = self._sum / n
            var = max(self._sumsq / n - mean * mean, 0.0)
            score = _judge(x, mean, math.sqrt(var), self._k, "rolling mean")
        if n == self._values.maxlen:
            old = self._values[0]
            self._sum -= old
            self._sumsq -= old * old
        self._values.append(x)
        self._sum += x
        self._sumsq += x * x
        if not (math.isfinite(self._sum) and math.isfinite(self._sumsq)):
            # a value whose square overflows (|x| > ~1e154) made the running sums inf, and its
            # removal inf - inf = nan for good: every later score was 0. Summed afresh while
            # such a value is in the window (blind then: its spread is infinite), exact after.
            self._sum = math.fsum(self._values)
            self._sumsq = math.fsum(v * v for v in self._values)
        return score


class EwmaZScore:
    """``|x - m| / s`` with ``m`` and ``s^2`` exponentially weighted (weight ``alpha`` per row)."""

    def __init__(self, alpha: float = 0.05, k: float = 3.0) -> None:
        self._alpha = alpha
        self._k = k
        self._mean = 0.0
        self._var = 0.0
        self._n = 0

    def update(self, t: float, x: float) -> Score:
        score = Score(0.0, "learning")
        if self._n >= MIN_HISTORY:
            score = _judge(x, self._mean, math.sqrt(self._var), self._k, "EWMA")
        if self._n == 0:
            self._mean = x
        else:
            delta = x - self._mean
            mean = self._mean + self._alpha * delta
            var = (1 - self._alpha) * (self._var + self._alpha * delta * delta)
            if not (math.isfinite(mean) and math.isfinite(var)):
                # an infinite variance never decays: one value of ~1e154 or more made every
                # later score 0. Once the level is learned such a value is judged (far beyond)
                # but not learned; while learning, learning starts again from it (the next
                # ordinary value drops an absurd first one the same way).
                if self._n >= MIN_HISTORY:
                    return score
                mean, var, self._n = x, 0.0, 0
            self._mean, self._var = mean, var
        self._n += 1
        return score


class MadZScore:
    """``|x - median| / (1.4826 MAD)`` over the last ``window`` observations: one spike moves
    neither the centre nor the spread, so the next spike is still seen."""

    def __init__(self, window: int = 100, k: float = 3.5) -> None:
        self._k = k
        self._window = SortedWindow(window)

    def update(self, t: float, x: float) -> Score:
        w = self._window
        n = len(w)
        score = Score(0.0, "learning")
        if n >= MIN_HISTORY:
            med = w.median()
            deviations = sorted(abs(v - med) for v in w.sorted)
            score = _judge(x, med, MAD_TO_SIGMA * deviations[n // 2], self._k, "median")
        w.push(x)
        return score
