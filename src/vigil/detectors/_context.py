"""Contextual novelty: is the recent *pattern* of the series new, even when no value is extreme?

Who calls it: the default ensemble (:mod:`vigil.detectors._ensemble`), once per observation, next
to its value/spike views; usable alone as a :class:`~vigil.detectors._score.Detector`.

The idea is that of CAD OSE (Contextual Anomaly Detector, open source edition, Smirnov and
Ivanov; NAB's ``contextOSE``), written here from its description in a simpler form:

1. Each value is quantised into one of ``2**BITS`` bins over the range seen so far (running
   minimum and maximum: causal, two floats of state).
2. A *fact* is a bin read at a resolution (its top 1, 2 or 3 bits: coarse to fine), and a
   *context* is a run of consecutive facts at one resolution: the last ``k + 1`` bins, for every
   order ``k`` in ``1..ORDERS``. Contexts are kept in a set (as packed integers: no tuples).
3. The raw score is the share of the current contexts never seen before: a repeated pattern
   stops being anomalous once seen, a new one is flagged whatever its values.
4. As CAD's rest period: after a raw score of at least ``ALARM_LEVEL``, the view stays silent
   for ``REST`` rows, so one pattern change gives one early alarm (NAB rewards the first alarm in
   a window and charges each false one).

Memory is bounded: the set holds at most ``CAPACITY`` contexts; when full it becomes the "old"
generation and a new set starts (contexts still in use are copied forward when met), so
patterns not seen for a long time are eventually forgotten.
"""

from __future__ import annotations

from vigil.detectors._score import Score

BITS = 3  # 8 bins over the range, as CAD OSE: coarse enough that noise rarely makes a new fact
ORDERS = 6  # contexts of 2..7 consecutive bins (~10-35 minutes at NAB's 5-minute step)
RESOLUTIONS = (1, 2, 3)  # facts at 2, 4 and 8 bins: a coarse change is seen at every scale
WARM_UP = 150  # rows learned before the view speaks (everything is new at first)
ALARM_LEVEL = 0.75  # CAD OSE's base threshold: a raw score this high starts a rest period
REST = 120  # rows of silence after an alarm: CAD OSE's probation / 5 for a typical NAB file
CAPACITY = 10_000  # contexts per generation: 2 sets, <= ~1.5 MB; 4k already forgets too soon
# Values are clipped to +-1e100, so the range (at most 2e100) stays finite: no inf / inf = NaN.
MAX_MAGNITUDE = 1e100
_MAX_BIN = (1 << BITS) - 1
_ORDER_SHIFT = 60  # the order and resolution tag sit above the packed bins (7 * 3 = 21 bits)


def _masks() -> tuple[tuple[int, int], ...]:
    """(mask over the packed history, tag) for each resolution and order."""
    out = []
    for r in RESOLUTIONS:
        keep = ((1 << r) - 1) << (BITS - r)  # the top r bits of one bin
        for k in range(1, ORDERS + 1):
            mask = 0
            for j in range(k + 1):
                mask |= keep << (BITS * j)
            out.append((mask, (r * (ORDERS + 1) + k) << _ORDER_SHIFT))
    return tuple(out)


_MASKS = _masks()
_HISTORY_MASK = (1 << (BITS * (ORDERS + 1))) - 1


class ContextNovelty:
    """Share of the current contexts never seen before, in [0, 1]; see the module docstring."""

    __slots__ = ("_hi", "_lo", "_new", "_old", "_packed", "_quiet", "_rows")

    def __init__(self) -> None:
        self._lo = float("inf")
        self._hi = float("-inf")
        self._packed = 0  # the last ORDERS + 1 bins, BITS each, newest in the low bits
        self._rows = 0
        self._quiet = 0  # rows of rest left
        self._new: set[int] = set()
        self._old: set[int] = set()

    def raw(self, x: float) -> float | None:
        """Learn ``x``; return the share of its contexts never seen (None while warming up)."""
        x = min(MAX_MAGNITUDE, max(-MAX_MAGNITUDE, x))
        if x < self._lo:
            self._lo = x
        if x > self._hi:
            self._hi = x
        span = self._hi - self._lo
        b = 0 if not span > 0.0 else min(_MAX_BIN, int((_MAX_BIN + 1) * ((x - self._lo) / span)))
        packed = ((self._packed << BITS) | b) & _HISTORY_MASK
        self._packed = packed
        self._rows += 1
        if self._rows <= ORDERS:  # not yet a full history: nothing to compare
            return None
        new, old = self._new, self._old
        unseen = 0
        for mask, tag in _MASKS:
            key = (packed & mask) | tag
            if key not in new:
                if key not in old:
                    unseen += 1
                new.add(key)
        if len(new) >= CAPACITY:
            self._old, self._new = new, set()
        if self._rows <= WARM_UP:
            return None
        return unseen / len(_MASKS)

    def update(self, t: float, x: float) -> Score:
        """The :class:`~vigil.detectors._score.Detector` shape: raw share, with the rest period."""
        del t  # the pattern is in the order of values, not in their times
        if x != x:  # NaN: nothing to learn, nothing to say
            return Score(0.0, "not a number: ignored")
        share = self.raw(x)
        if share is None:
            return Score(0.0, "learning")
        return Score(self.rest(share), "normal" if share < ALARM_LEVEL else "new pattern")

    def rest(self, share: float) -> float:
        """``share``, or 0 during the rest period after an alarm; starts a rest on an alarm."""
        out = share if self._quiet <= 0 else 0.0
        self._quiet -= 1
        if share >= ALARM_LEVEL:
            self._quiet = REST
        return out
