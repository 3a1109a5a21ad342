"""The default detector: records of the series seen at several time scales, echoes damped.

Who calls it: ``vigil detect FILE.csv`` (:mod:`vigil.cli._detect`) for every row, and
``bench/nab.py``; later the metrics pipeline, one instance per series. Pure and causal: the
score of an observation depends only on it and on earlier ones (the clock is passed in).

How a score is made, per observation ``(t, x)``:

1. Five views of the series: the value itself; its exponential means over ~4, ~16 and ~64 rows
   (a burst, a sustained shift or a slow drift that no single value shows); and the mean
   over ~32 rows of the change from one day earlier (a day that does not look like the
   previous one, e.g. a missing daily peak, with every value inside the usual range).
2. Each view keeps the range of everything it has ever shown
   (:class:`~vigil.detectors._records.RangeRecord`); a value outside it is a record, with the
   evidence ``ln(n) * excess / range``. The day-over-day view is judged only after
   ``DAY_WARM_UP`` of its own history: a daily pattern is learned from a few days.
3. The evidence of the strongest view becomes the score ``e / (e + 1)``, and echoes of an
   alarm are damped (:class:`~vigil.detectors._records.Refractory`).

Why records: a score must mean the same on every series (one threshold for all), and "never
seen before in this series, by this much of its range" does, where a z-score does not (a
heavy-tailed series would alarm daily). Most rows score exactly 0. Memory is constant per
series: five ranges, four means, and one day of rows for the lag (bounded by the sampling rate).

On NAB's 19 given series this lifts the standard score from 60.8 (the calibrated ensemble,
:class:`~vigil.detectors._ensemble.EnsembleDetector`) to about 76, at ~5x the speed; see
``docs/benchmarks.md``.
"""

from __future__ import annotations

from vigil.detectors._records import WARM_UP, RangeRecord, Refractory
from vigil.detectors._score import Score
from vigil.detectors._seasonal import Lag

DAY = 86400.0
MEAN_ROWS = (4.0, 16.0, 64.0)  # exponential means: x 4 apart, a few minutes to a few hours at 5 min
DAY_MEAN_ROWS = 32.0  # the day-over-day change is averaged over ~32 rows (~2.7 h at 5 min)
DAY_WARM_UP = 3 * DAY  # history of the day-over-day view before its records count
REST = 120  # rows an alarm's echoes are damped (~10 h at NAB's 5-minute step)
RATIO = 1.5  # an event this many times stronger than the alarm alarms during the rest anyway
HALF = 0.15  # evidence scored 0.5: about the alarm level NAB picks (a record of ~2% of the range)
ECHO = 1e-6  # damping of an echo: below every real alarm, still ordered among echoes
# Values are clipped to +-1e100: ranges and excesses stay finite (< 1e101), no inf / inf = NaN.
MAX_MAGNITUDE = 1e100
_VIEWS = ("value", "~4-row mean", "~16-row mean", "~64-row mean", "day-over-day change")


class RecordEnsemble:
    """Anomaly score of one series, in [0, 1); see the module docstring."""

    __slots__ = ("_day", "_day_start", "_lag", "_means", "_records", "_rest", "_rows")

    def __init__(self) -> None:
        # A mean over w rows has ~(2w - 1) rows per independent sample (module docstring).
        spans = (1.0, *MEAN_ROWS, DAY_MEAN_ROWS)
        self._records = [RangeRecord(WARM_UP, 2.0 * w - 1.0) for w in spans]
        self._means = [0.0 for _ in MEAN_ROWS]
        self._rows = 0
        self._lag = Lag(DAY)
        self._day = 0.0  # mean of the day-over-day change
        self._day_start: float | None = None  # time of the first day-over-day change
        self._rest = Refractory(REST, RATIO, ECHO)

    def update(self, t: float, x: float) -> Score:
        if x != x:  # NaN: nothing to learn, nothing to say
            return Score(0.0, "not a number: ignored")
        x = min(MAX_MAGNITUDE, max(-MAX_MAGNITUDE, x))
        records = self._records
        means = self._means
        self._rows += 1
        first = self._rows == 1
        value_view = records[0]
        lo, hi = value_view.lo, value_view.hi
        # Tomorrow compares with today's value clipped to the range known before it: a spike
        # today is an alarm today, not again tomorrow as a drop of the day-over-day change.
        usual = x if lo > hi else min(max(x, lo), hi)
        best = value_view.push(x)
        which = 0
        for i, rows in enumerate(MEAN_ROWS):
            m = x if first else means[i] + (x - means[i]) / rows
            means[i] = m
            e = records[i + 1].push(m)
            if e > best:
                best, which = e, i + 1
        yesterday = self._lag.push(t, usual)
        if yesterday is not None:
            change = x - yesterday
            day_view = records[4]
            if self._day_start is None:
                self._day_start, self._day = t, change
            else:
                self._day += (change - self._day) / DAY_MEAN_ROWS
            if t - self._day_start < DAY_WARM_UP:
                day_view.learn(self._day)
            else:
                e = day_view.push(self._day)
                if e > best:
                    best, which = e, 4
        if best == 0.0:
            self._rest(0.0)
            return Score(0.0, "learning" if self._rows <= records[0].warm_up else "normal")
        kept = self._rest(best)
        value = kept / (kept + HALF)
        if kept < best:
            return Score(value, f"{_VIEWS[which]} beyond its range (echo of a recent alarm)")
        return Score(value, f"{_VIEWS[which]} beyond its range ever seen: evidence {best:.3g}")
