"""Calibrated multi-scale surprise and contextual novelty, alarms damped (the previous default).

Who calls it: anomaly rules (:mod:`vigil.detectors._rules`), and ``vigil detect --detector
ensemble`` (:mod:`vigil.cli._detect`; ``bench/nab.py`` scores it as the "before" figure). The
default of ``vigil detect`` is now :class:`~vigil.detectors._record_ensemble.RecordEnsemble`
(NAB standard 79.0 against 60.8 here, ~6x faster). Pure and causal: the score of an observation
depends only on it and on earlier observations; memory is bounded by the window sizes below and
by the contextual view's capacity (:data:`vigil.detectors._context.CAPACITY`).

How a score is made, per observation ``(t, x)``:

1. Four features look at the series at different scales: the value, its first difference, a
   short exponential mean (a sustained shift in a noisy series) and the difference from the value
   one day earlier (a change of the daily pattern; absent until a day of history exists).
2. Each feature is normalised robustly against its own trailing window (median and IQR, so a past
   spike does not hide the next one), giving the Gaussian surprise ``z^2 / 2``.
3. Each surprise becomes a tail probability under the law of that feature's own recent
   surprises (:class:`~vigil.detectors._calibrate.TailCalibrator`): a heavy-tailed series no
   longer alarms all the time, and one threshold means the same on every series.
4. The features are combined by their maximum (the most surprising view wins), and a score below
   the decaying recent peak is damped, so the first alarm of an episode stands out and its echoes
   do not: only the first alarm in an anomaly counts, and repeats cost false positives.
5. A contextual view (:class:`~vigil.detectors._context.ContextNovelty`, after CAD OSE) scores
   the share of the recent value patterns never seen before, with its own rest period after an
   alarm; the result is the larger of the two. The value views catch spikes and shifts, the
   contextual view catches a pattern change without any extreme value (on NAB's 19 given series
   it lifts the standard score from 54.8 to 60.8, most on traffic, tweets and AWS series). Its
   raw share is used as is: its scale (a share of contexts) already means the same on every
   series, and calibrating it against its own history made it worse on NAB.
"""

from __future__ import annotations

from vigil.detectors._calibrate import TailCalibrator
from vigil.detectors._context import ContextNovelty
from vigil.detectors._score import Score, squash
from vigil.detectors._seasonal import Lag
from vigil.detectors._window import SortedWindow

DAY = 86400.0
WINDOW = 400  # rows of history for each feature's median/IQR: ~1.4 days at NAB's 5-minute step
CALIBRATION = 1000  # surprises remembered per feature for the tail probability (~3.5 days)
MIN_HISTORY = 30  # rows before a feature is judged at all (a median of fewer is noise)
SHORT_MEAN = 0.25  # weight of the newest row in the short exponential mean (~4 rows)
IQR_TO_SIGMA = 1.349  # the IQR of a normal law, in standard deviations
RANGE_FLOOR = 0.02  # scale floor: 2% of the window's range, for quantised or mostly-flat series
PEAK_DECAY = 0.95  # per row; an alarm damps its echoes for ~20-60 rows
DAMPING = 4.0  # exponent: a surprise at half the recent peak keeps 1/16 of its value
SQUASH_SCALE = 10.0  # surprise (in nats) that maps to 0.5
# Values are clipped to +-1e100: squares of differences over the 1e-12 scale floor stay finite
# (< 1e225), so no inf - inf or inf / inf can turn a score into NaN.
MAX_MAGNITUDE = 1e100
_FEATURES = ("value", "difference", "short mean", "day-over-day change")


class EnsembleDetector:
    """Anomaly score of one series, in [0, 1]; see the module docstring."""

    __slots__ = ("_calibrators", "_context", "_lag", "_mean", "_peak", "_prev", "_windows")

    def __init__(self) -> None:
        self._windows = [SortedWindow(WINDOW) for _ in _FEATURES]
        self._calibrators = [TailCalibrator(CALIBRATION) for _ in _FEATURES]
        self._lag = Lag(DAY)
        self._prev: float | None = None
        self._mean = 0.0
        self._peak = 0.0
        self._context = ContextNovelty()

    def update(self, t: float, x: float) -> Score:
        if x != x:  # NaN: nothing to learn, nothing to say
            return Score(0.0, "not a number: ignored")
        x = min(MAX_MAGNITUDE, max(-MAX_MAGNITUDE, x))
        prev = self._prev
        if prev is None:
            diff, self._mean = 0.0, x
        else:
            diff = x - prev
            self._mean += SHORT_MEAN * (x - self._mean)
        self._prev = x
        yesterday = self._lag.push(t, x)
        features = (x, diff, self._mean, None if yesterday is None else x - yesterday)
        best, which = 0.0, -1
        for i, f in enumerate(features):
            if f is None:
                continue
            window = self._windows[i]
            s = window.sorted
            n = len(s)
            if n >= MIN_HISTORY:
                med = s[n // 2]
                scale = (s[(3 * n) // 4] - s[n // 4]) / IQR_TO_SIGMA
                floor = RANGE_FLOOR * (s[-1] - s[0])
                if floor > scale:
                    scale = floor
                if scale < 1e-9 * abs(med) + 1e-12:
                    scale = 1e-9 * abs(med) + 1e-12
                z = (f - med) / scale
                surprise = self._calibrators[i](0.5 * z * z)
                if surprise > best:
                    best, which = surprise, i
            window.push(f)
        ref = self._peak * PEAK_DECAY
        out = best if best >= ref else best * (best / ref) ** DAMPING
        self._peak = max(best, ref)
        value = squash(out, SQUASH_SCALE)
        share = self._context.raw(x)
        novelty = 0.0 if share is None else self._context.rest(share)
        if novelty > value:
            return Score(novelty, f"new pattern: {novelty:.0%} of recent contexts never seen")
        if which < 0 or value < 0.5:
            return Score(value, "normal" if which >= 0 else "learning")
        damped = " (damped: echo of a recent alarm)" if out < best else ""
        return Score(value, f"{_FEATURES[which]} surprising: -ln p = {best:.1f}{damped}")
