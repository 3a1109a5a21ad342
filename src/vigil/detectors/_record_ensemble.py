"""The default detector: records of the series seen at several time scales, echoes damped.

Who calls it: ``vigil detect FILE.csv`` (:mod:`vigil.cli._detect`) for every row, and
``bench/nab.py``; later the metrics pipeline, one instance per series. Pure and causal: the
score of an observation depends only on it and on earlier ones (the clock is passed in).

How a score is made, per observation ``(t, x)``:

0. A series of counts (its first 150 rows all whole numbers >= 0) is seen as ``sqrt(x)`` by
   every view but the value's own records: Poisson noise grows like the square root of the
   level, and this transform makes it the same size at every level, so a burst at night weighs
   like the same surprise at noon. A record of the value is not noise; it is measured in the
   series' own units (twice the highest ever is twice, not 1.4 times).
1. Six views of the series: the value itself; its exponential means over ~4, ~16 and ~64 rows
   (a burst, a sustained shift or a slow drift that no single value shows); and the mean over
   ~16 rows of the change from one day and from one week earlier (a day that does not look
   like the day before, or a Thursday like a Sunday, with every value inside the usual range).
   The earlier value is taken clipped to the range known before it, so yesterday's spike is
   not alarmed again today as a drop.
2. Each view keeps the range of everything it has ever shown
   (:class:`~vigil.detectors._records.RangeRecord`); a value outside it is a record, with the
   evidence ``ln(1 + n / (2w - 1)) * excess / range`` (``n`` rows seen, ``w`` the rows of
   the view's mean: 1 for the value). A change view is judged only after three periods of its
   own history: a rhythm is learned from a few of its periods.
3. A seventh view sees what a range cannot: a value inside the range reached by a jump the
   series never made, from the level of the previous value to its level, the range cut into 5
   levels (:class:`~vigil.detectors._transitions.TransitionNovelty`; its evidence is the
   Good-Turing surprise of a new transition in units of one level's width of range).
4. The strongest view's evidence ``e``, with the echoes of an alarm damped
   (:class:`~vigil.detectors._records.Refractory`), becomes the score ``e / (e + HALF)``.

Why records: a score must mean the same on every series (one threshold for all), and "never
seen before in this series, by this much of its range" does, where a z-score does not (a
heavy-tailed series would alarm daily). Most rows score exactly 0. Memory is constant per
series: six ranges, five means, 25 transition counts, and the two lags' rings of 5-minute
buckets over a day and a week (:class:`~vigil.detectors._bucket_lag.BucketLag`, ~37 KiB
whatever the sampling rate).

On NAB's 19 given series this lifts the standard score from 60.8 (the calibrated ensemble,
:class:`~vigil.detectors._ensemble.EnsembleDetector`) to about 84, at ~4x the speed; see
``docs/benchmarks.md``.
"""

from __future__ import annotations

import math

from vigil.detectors._bucket_lag import BucketLag
from vigil.detectors._records import WARM_UP, RangeRecord, Refractory
from vigil.detectors._score import NORMAL, Score
from vigil.detectors._transitions import TransitionNovelty

DAY = 86400.0
MEAN_ROWS = (4.0, 16.0, 64.0)  # exponential means: x 4 apart, a few minutes to a few hours at 5 min
WEEK = 7 * DAY
CHANGE_MEAN_ROWS = 16.0  # the change from a period earlier is averaged on the middle scale
# (period, history of its view before its records count, name): a rhythm is learned from a few
# of its periods (a series shorter than that never uses the view).
PERIODS = ((DAY, 3 * DAY, "day-over-day change"), (WEEK, 3 * WEEK, "week-over-week change"))
REST = 120  # rows an alarm's echoes are damped (~10 h at NAB's 5-minute step)
RATIO = 1.5  # an event this many times stronger than the alarm alarms during the rest anyway
HALF = 0.15  # evidence scored 0.5: about the alarm level NAB picks (a record of ~2% of the range)
ECHO = 1e-6  # damping of an echo: below every real alarm, still ordered among echoes
# Values are clipped to +-1e100: ranges and excesses stay finite (< 1e101), no inf / inf = NaN.
MAX_MAGNITUDE = 1e100
# A series whose first rows are all whole numbers >= 0 is taken as counts (events per interval:
# tweets, requests, errors, passengers): their noise grows like the square root of their level
# (Poisson), so the views but the value's records see sqrt(x), the transform that makes that
# noise the same size at every level. The choice is made once, on the first WARM_UP rows (none
# is judged before then anyway), which are then replayed through the views.
COUNTS = True
NOVEL = "transition between levels of the range"
_VIEWS = ("value", *(f"~{w:.0f}-row mean" for w in MEAN_ROWS))


def _sqrt(x: float) -> float:
    """The square root of a count, extended to negative values (a count series may have some)."""
    return math.sqrt(x) if x >= 0.0 else -math.sqrt(-x)


class _PeriodChange:
    """The mean change from one period earlier, and the range record of that mean."""

    __slots__ = ("_lag", "_mean", "_start", "name", "record", "warm_up")

    def __init__(self, period: float, warm_up: float, name: str) -> None:
        self._lag = BucketLag(period)
        self._mean = 0.0
        self._start: float | None = None  # time of the first change
        self.warm_up = warm_up
        self.name = name
        self.record = RangeRecord(WARM_UP, 2.0 * CHANGE_MEAN_ROWS - 1.0)

    def push(self, t: float, x: float, usual: float) -> float:
        """Evidence of ``x`` at ``t``; ``usual`` is what later periods compare with."""
        before = self._lag.push(t, usual)
        if before is None:
            return 0.0
        change = x - before
        if self._start is None:
            self._start, self._mean = t, change
            return 0.0
        self._mean += (change - self._mean) / CHANGE_MEAN_ROWS
        if t - self._start < self.warm_up:
            self.record.learn(self._mean)
            return 0.0
        return self.record.push(self._mean)


class RecordEnsemble:
    """Anomaly score of one series, in [0, 1); see the module docstring."""

    __slots__ = (
        "_changes",
        "_counts",
        "_means",
        "_novelty",
        "_pending",
        "_records",
        "_rest",
        "_rows",
        "beyond_range",
    )

    def __init__(self) -> None:
        # A mean over w rows has ~(2w - 1) rows per independent sample (module docstring).
        self._records = [RangeRecord(WARM_UP, 2.0 * w - 1.0) for w in (1.0, *MEAN_ROWS)]
        self._means = [0.0 for _ in MEAN_ROWS]
        self._changes = [_PeriodChange(p, w, name) for p, w, name in PERIODS]
        self._novelty = TransitionNovelty()
        self._rows = 0
        self._rest = Refractory(REST, RATIO, ECHO)
        self._pending: list[tuple[float, float]] | None = []
        self._counts = False
        self.beyond_range = False
        """Whether the last row's strongest evidence was a view beyond its range (the value, a
        mean, a period's change), not a transition never made: after an alarm, the series is
        still out of its range while this holds (the anomaly rules' ``for`` reads it)."""

    def update(self, t: float, x: float) -> Score:
        if x != x:  # NaN: nothing to learn, nothing to say
            return Score(0.0, "not a number: ignored")
        x = min(MAX_MAGNITUDE, max(-MAX_MAGNITUDE, x))
        pending = self._pending
        if pending is not None:
            pending.append((t, x))
            if len(pending) < WARM_UP:
                return Score(0.0, "learning")
            self._pending = None
            self._counts = COUNTS and all(v >= 0.0 and v == int(v) for _, v in pending)
            last = NORMAL
            for t0, x0 in pending:
                last = self._judge(t0, x0)
            return last
        return self._judge(t, x)

    def _judge(self, t: float, raw: float) -> Score:
        records = self._records
        means = self._means
        self._rows += 1
        first = self._rows == 1
        value_view = records[0]
        lo, hi = value_view.lo, value_view.hi
        # The value's own records are judged on the raw value: how far beyond the highest ever,
        # in the units the series is read in (a record is never noise, so the square root of
        # counts, which evens out noise, has nothing to even out there). The other views see
        # the transformed value; the range in their units is the transformed raw range.
        best = value_view.push(raw)
        view = _VIEWS[0]
        if self._counts:
            x = _sqrt(raw)
            if lo <= hi:
                lo, hi = _sqrt(lo), _sqrt(hi)
        else:
            x = raw
        # Later periods compare with this value clipped to the range known before it: a spike
        # today is an alarm today, not again tomorrow as a drop of the day-over-day change.
        usual = x if lo > hi else min(max(x, lo), hi)
        e = self._novelty.push(x, lo, hi)
        if e > best:
            best, view = e, NOVEL
        for i, rows in enumerate(MEAN_ROWS):
            m = x if first else means[i] + (x - means[i]) / rows
            means[i] = m
            e = records[i + 1].push(m)
            if e > best:
                best, view = e, _VIEWS[i + 1]
        for change in self._changes:
            e = change.push(t, x, usual)
            if e > best:
                best, view = e, change.name
        self.beyond_range = best > 0.0 and view is not NOVEL
        if best == 0.0:
            self._rest(0.0)
            return Score(0.0, "learning" if self._rows <= value_view.warm_up else "normal")
        kept = self._rest(best)
        value = kept / (kept + HALF)
        what = f"{view} never made before" if view is NOVEL else f"{view} beyond its range"
        if kept < best:
            return Score(value, f"{what} (echo of a recent alarm)")
        ever = "" if view is NOVEL else " ever seen"
        return Score(value, f"{what}{ever}: evidence {best:.3g}")
