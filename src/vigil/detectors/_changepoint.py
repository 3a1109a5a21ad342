"""Change points in the level of a series: two-sided CUSUM (Page, 1954) on standardised values.

Who calls it: the metrics pipeline (a service's latency or a GPU's power stepping to a new level)
and tests. Pure: the timestamp is passed in and only used to say when the change began.

The detector learns the series' mean and sigma over ``warmup`` observations, then accumulates
``S+ = max(0, S+ + z - drift)`` and ``S- = max(0, S- - z - drift)``. A shift of ``delta`` sigma
is found after about ``h / (delta - drift)`` rows, and an in-control series alarms about once
every 470 rows at the defaults (Siegmund's approximation with a known reference; a reference
learned from ``warmup`` rows makes false alarms somewhat more frequent). After an
alarm the new level becomes the reference: the detector learns again from the next row.
"""

from __future__ import annotations

import math

from vigil.detectors._score import Score, squash

DRIFT = 0.5  # half the smallest shift worth finding (1 sigma): the optimal CUSUM allowance
THRESHOLD = 5.0  # decision interval h, the textbook choice with drift 0.5
WARMUP = 30  # observations to learn the reference level and sigma
REL_FLOOR = 1e-9  # sigma floor for a flat reference (relative to the level), plus 1e-12


class Cusum:
    """Score ``g / (g + h)`` with ``g = max(S+, S-)``: 0.5 exactly when the CUSUM alarms."""

    def __init__(self, drift: float = DRIFT, threshold: float = THRESHOLD, warmup: int = WARMUP):
        self._drift = drift
        self._h = threshold
        self._warmup = max(2, warmup)
        self._reset()

    def _reset(self) -> None:
        self._n = 0
        self._mean = 0.0
        self._m2 = 0.0
        self._pos = 0.0
        self._neg = 0.0
        self._pos_start = 0.0
        self._neg_start = 0.0

    def update(self, t: float, x: float) -> Score:
        if self._n < self._warmup:  # Welford's running mean and variance
            delta = x - self._mean
            mean = self._mean + delta / (self._n + 1)
            m2 = self._m2 + delta * (x - mean)
            if not (math.isfinite(mean) and math.isfinite(m2)):
                # an infinite reference spread gave every later value z = 0: no alarm, no
                # reset, for ever. The spread of this value and those before overflows: one
                # of them is absurdly far off, so learning starts again from this one (the
                # next ordinary value drops an absurd one the same way).
                mean, m2 = x, 0.0
                self._n = 0
            self._n += 1
            self._mean, self._m2 = mean, m2
            return Score(0.0, "learning the reference level")
        sigma = math.sqrt(self._m2 / (self._n - 1))
        sigma = max(sigma, REL_FLOOR * abs(self._mean) + 1e-12)
        z = (x - self._mean) / sigma
        if self._pos == 0.0:
            self._pos_start = t
        if self._neg == 0.0:
            self._neg_start = t
        self._pos = max(0.0, self._pos + z - self._drift)
        self._neg = max(0.0, self._neg - z - self._drift)
        g = max(self._pos, self._neg)
        if not math.isfinite(g):
            g = math.inf
        if g < self._h:
            return Score(squash(g, self._h), f"CUSUM {g:.2f} of {self._h:g}")
        up = self._pos >= self._neg
        since = self._pos_start if up else self._neg_start
        mean = self._mean
        self._reset()
        return Score(
            squash(g, self._h),
            f"level shift {'up' if up else 'down'} from {mean:.6g} since t={since:g}",
        )
