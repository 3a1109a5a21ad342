"""Evidence that a series just made a jump it has never made before: the novelty of a transition.

Who calls it: :class:`~vigil.detectors._record_ensemble.RecordEnsemble` (the default detector
behind ``vigil detect``), once per observation, with the value range its record view has learned
so far. Pure arithmetic: no clock, no I/O, O(1) time and ``LEVELS ** 2`` counters of state.

The range records of the ensemble see a value outside everything before; they are blind to a
value inside the range that arrives by a new path: a flat series at the bottom of its range that
jumps half-way up, when every earlier excursion went straight to the top (a latency that flaps
between its usual level and a new one, a counter that steps instead of spiking). This is the
core of HTM's and ARTime's detectors on NAB (the shape of the last few points never seen
before), reduced to its smallest form: the range is cut into ``LEVELS`` equal levels and a
*transition* is the pair (level of the previous value, level of this one).

How surprising is a transition never seen before? Good-Turing answers without a model: after
``n`` transitions of which ``N1`` were seen exactly once, the chance that the next one is new is
about ``N1 / n``, so a new one carries ``ln(n / N1)`` nats of surprise: small while the series is
still finding its paths (or after its range widened and re-cut its levels, which makes many
transitions new at once), large once every path has been walked many times. The evidence is
that surprise divided by ``LEVELS``: a new transition weighs as much as a range record one level
wide, the unit the ensemble's other views are measured in, so no scale of its own is tuned.
"""

from __future__ import annotations

import math
from array import array

# Levels the learned range is cut into. Two consecutive values give LEVELS**2 transitions: few
# enough that an ordinary series walks all of its usual ones within its warm-up, so a new one
# is news (NAB's 19 given series: 4 to 6 levels score alike; 3 is too coarse, a pair of 8-level
# values is too fine and new pairs of noise keep coming; see docs/benchmarks.md).
LEVELS = 5
WARM_UP = 150  # transitions counted before a new one is judged (as the range records' warm-up)


class TransitionNovelty:
    """Good-Turing surprise of a (previous level, level) pair never seen (module docstring)."""

    __slots__ = ("_counts", "_levels", "_prev", "_singles", "n", "warm_up")

    def __init__(self, levels: int | None = None, warm_up: int | None = None) -> None:
        levels = LEVELS if levels is None else levels  # read at call time: benches vary them
        if levels < 2:
            raise ValueError(f"need at least 2 levels to make a transition, got levels={levels}")
        self._levels = levels
        self._counts = array("l", [0]) * (levels * levels)
        self._prev = -1  # level of the previous value (-1: none yet)
        self._singles = 0  # transitions seen exactly once (Good-Turing's N1)
        self.n = 0  # transitions counted
        self.warm_up = WARM_UP if warm_up is None else warm_up

    def level(self, x: float, lo: float, hi: float) -> int:
        """The level of ``x`` in ``[lo, hi]`` cut into equal levels (clipped to the ends)."""
        k = self._levels
        q = int(k * (min(max(x, lo), hi) - lo) / (hi - lo))
        return k - 1 if q >= k else q

    def push(self, x: float, lo: float, hi: float) -> float:
        """Evidence that the step to ``x`` is new, with ``[lo, hi]`` the range known before it.

        0.0 for a transition seen before, while warming up, or while the range is a point."""
        if not lo < hi:
            return 0.0
        q = self.level(x, lo, hi)
        prev, self._prev = self._prev, q
        if prev < 0:
            return 0.0
        i = prev * self._levels + q
        counts = self._counts
        seen = counts[i]
        counts[i] = seen + 1
        self.n += 1
        if seen == 1:
            self._singles -= 1
        if seen != 0:
            return 0.0
        self._singles += 1
        if self.n <= self.warm_up:
            return 0.0
        return max(0.0, math.log(self.n / self._singles)) / self._levels
