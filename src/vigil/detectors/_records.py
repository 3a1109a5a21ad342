"""Record-breaking evidence and alarm echoes: the two pure cores of the default detector.

Who calls it: :class:`~vigil.detectors._record_ensemble.RecordEnsemble` (the default behind
``vigil detect``) feeds one :class:`RangeRecord` per view of the series and passes its combined
score through one :class:`Refractory`. Both are plain arithmetic on floats: no clock, no I/O,
O(1) time and a few floats of state per call.

:class:`RangeRecord` answers "is this value outside everything this signal has ever done?". The
range it has learned is ``[lo, hi]``; a value beyond it is a record, and its evidence is

    ln(1 + n / rows_per_sample) * excess / (hi - lo)

where ``n`` is the number of values judged so far. The excess is measured in units of the
signal's own range, so the evidence means the same on a CPU percentage and on a byte count. The
logarithm is the surprise of a record itself: among ``m`` exchangeable values the newest is the
largest with probability ``1/m``, so a record after a long history is rarer (and more worth an
alarm) than one on the second day. A smoothed signal (a running mean) has far fewer independent
values than rows: an exponential mean over ``w`` rows is correlated over ``2w - 1`` rows (the
integrated autocorrelation time of its AR(1) form), so its ``m`` is ``n / (2w - 1)``;
counting rows instead made records of the smoothed views of pure noise look rare (on NAB's
artificial noise series, 5 false alarms of the day-over-day view). Records are learned at once
(the range grows to include them), so an anomaly raises one alarm, not one per repetition of
the same level.

:class:`Refractory` damps the echoes of an alarm: for ``rest`` rows after a non-zero score,
anything not ``ratio`` times stronger than the strongest score of the episode so far is
multiplied by ``echo`` (so it ranks below every real alarm whatever the threshold), while a
clearly stronger event still alarms at once; an event that grows slowly stays one alarm. NAB rewards
only the first alarm in an anomaly window and charges each extra one as a false positive.
"""

from __future__ import annotations

import math

WARM_UP = 150  # values learned before a signal's records are judged (its range is still forming)
# A constant signal has no range; its span is floored relative to its magnitude, so the first
# value that differs from it is a (very strong) record instead of a division by zero.
RELATIVE_SPAN_FLOOR = 1e-9
ABSOLUTE_SPAN_FLOOR = 1e-12


class RangeRecord:
    """Evidence that a value lies outside the range of everything seen so far (module docstring)."""

    __slots__ = ("hi", "lo", "n", "per_sample", "warm_up")

    def __init__(self, warm_up: int = WARM_UP, rows_per_sample: float = 1.0) -> None:
        self.lo = math.inf
        self.hi = -math.inf
        self.n = 0  # values judged (or counted towards the warm-up)
        self.warm_up = warm_up
        self.per_sample = rows_per_sample

    def learn(self, x: float) -> None:
        """Widen the range to include ``x`` without judging it (and without counting it)."""
        if x < self.lo:
            self.lo = x
        if x > self.hi:
            self.hi = x

    def push(self, x: float) -> float:
        """Judge ``x`` against the range, then learn it. 0.0 inside the range or warming up."""
        n = self.n = self.n + 1
        lo, hi = self.lo, self.hi
        excess = 0.0
        if x > hi:
            self.hi = x
            excess = x - hi
        if x < lo:
            self.lo = x
            excess = lo - x
        if excess == 0.0 or n <= self.warm_up or lo > hi:  # inside, warming up, or the first
            return 0.0
        span = hi - lo
        floor = RELATIVE_SPAN_FLOOR * max(abs(hi), abs(lo)) + ABSOLUTE_SPAN_FLOOR
        return math.log(1.0 + n / self.per_sample) * excess / (span if span > floor else floor)


class Refractory:
    """Damp the echoes of an alarm for ``rest`` rows, unless ``ratio`` times stronger."""

    __slots__ = ("_left", "_peak", "echo", "ratio", "rest")

    def __init__(self, rest: int, ratio: float, echo: float) -> None:
        if rest < 0 or ratio < 1.0 or not 0.0 <= echo < 1.0:
            raise ValueError(
                f"need rest >= 0, ratio >= 1 and 0 <= echo < 1; got {rest}, {ratio}, {echo}"
            )
        self.rest = rest
        self.ratio = ratio
        self.echo = echo
        self._left = 0  # rows of rest left
        self._peak = 0.0  # the strongest score of the episode being rested from

    def __call__(self, score: float) -> float:
        """``score``, or ``score * echo`` if it is an echo; a non-zero score starts a rest."""
        if self._left > 0 and score <= self._peak * self.ratio:
            self._left -= 1
            if score > self._peak:
                self._peak = score
            return score * self.echo
        if score > 0.0:
            self._left = self.rest
            self._peak = score
        return score
